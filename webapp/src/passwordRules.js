// The member password rules, shown as a list the member sees change while typing.
// Length, repeats and characters are checked here; "too simple" and "obvious" by the
// API (POST /api/v1/auth/password/check, limited per address), a moment after typing
// stops. The API checks everything again when the form is sent.
import { post } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const LOCAL = {
  length: (p) => [...p.normalize("NFC")].length >= 7 && [...p.normalize("NFC")].length <= 8,
  repeat: (p) => !/(.)\1\1/su.test(p),
  characters: (p) => [...p].every((c) => !/[\p{C}]/u.test(c)),
};
const REMOTE = { simple: "password_too_simple", obvious: "password_obvious" };

export function passwordRules(input) {
  const items = {};
  const list = h("ul", { class: "rules" },
    ["length", "repeat", "characters", "simple", "obvious"].map((rule) => {
      const state = h("span", { class: "rule-state" });
      const item = h("li", { class: "rule pending", "data-rule": rule }, h("span", { class: "mark", "aria-hidden": "true" }),
        h("span", {}, t(`rules.${rule}`)), " ", state);
      items[rule] = { item, state };
      set(rule, null);
      return item;
    }));
  const box = h("div", { class: "rules-box", id: `${input.id}-rules` },
    h("p", { class: "rules-title" }, t("rules.title")), list);
  const live = h("p", { class: "visually-hidden", "aria-live": "polite" });
  box.append(live);
  input.setAttribute("aria-describedby",
    `${input.getAttribute("aria-describedby") || ""} ${box.id}`.trim());

  function set(rule, ok) {
    const { item, state } = items[rule];
    item.className = `rule ${ok === null ? "pending" : ok ? "ok" : "ko"}`;
    item.dataset.rule = rule;
    state.textContent = `(${t(ok === null ? "rules.pending" : ok ? "rules.ok" : "rules.ko")})`;
  }

  let timer = null;
  let asked = 0;
  input.addEventListener("input", () => {
    const value = input.value;
    for (const [rule, check] of Object.entries(LOCAL)) set(rule, value ? check(value) : null);
    set("simple", null);
    set("obvious", null);
    clearTimeout(timer);
    if (!value) return;
    timer = setTimeout(async () => {
      const ticket = ++asked;
      try {
        const answer = await post("/api/v1/auth/password/check", { password: value });
        if (ticket !== asked || input.value !== value) return;
        const codes = new Set(answer.errors.map((e) => e.code));
        for (const [rule, code] of Object.entries(REMOTE)) set(rule, !codes.has(code));
        const failed = Object.values(items).filter((i) => i.item.classList.contains("ko")).length;
        live.textContent = failed ? `${failed} ${t("rules.ko")}` : t("rules.ok");
      } catch { /* the rules are checked again when the form is sent */ }
    }, 400);
  });
  return box;
}
