// The frame of the personal space: home, alerts, profile and preferences, active
// sessions, password change. Part 2 adds the card, refunds, documents, requests and
// pension as modules like this one.
import { del, get, patch, post, put } from "../api.js";
import { field, formatDate, formatDateTime, h, select } from "../dom.js";
import { lang, setLanguage, t } from "../i18n.js";
import { form } from "../forms.js";
import { passwordForm } from "./auth.js";

function section(title, ...children) {
  const id = `s-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

const home = {
  access: "member",
  async render(main, ctx) {
    const me = ctx.state.me;
    const [count, unread] = await Promise.all([
      get("/api/v1/me/notifications/unread-count"),
      get("/api/v1/me/notifications?unread=true&limit=5"),
    ]);
    const last = me.previous_login_at
      ? h("p", {}, t("home.last", { when: formatDateTime(me.previous_login_at, lang()),
                                    method: t(`method.${me.previous_login_method || "password"}`) }))
      : h("p", {}, t("home.first"));
    main.append(
      h("h1", {}, t("home.title", { name: me.first_name })),
      section(t("nav.sessions"), last,
        h("p", { class: "notyou" }, t("home.notyou"), " ",
          h("a", { href: "/password" }, t("home.notyou.password")), " · ",
          h("a", { href: "/sessions" }, t("home.notyou.sessions")))),
      section(t("home.alerts"),
        h("p", { class: "count" }, count.count ? t("home.alerts.count", { count: count.count })
                                               : t("home.alerts.none")),
        unread.items.length ? h("ul", { class: "alerts" }, unread.items.map((a) => alertItem(a))) : null,
        h("p", {}, h("a", { href: "/alerts" }, t("home.alerts.all")))));
  },
};

function alertItem(alert, onRead) {
  const item = h("li", { class: `alert-item${alert.read ? "" : " unread"}` },
    h("h3", {}, alert.title),
    h("p", { class: "meta" }, formatDateTime(alert.created_at, lang()),
      alert.read ? null : h("span", { class: "badge" }, t("alerts.unread"))),
    h("p", {}, alert.body));
  if (onRead && !alert.read) {
    item.append(h("button", { type: "button", class: "secondary", async onclick() {
      await post(`/api/v1/me/notifications/${alert.id}/read`);
      onRead();
    } }, t("alerts.mark")));
  }
  return item;
}

const alerts = {
  access: "member",
  async render(main, ctx) {
    const page = await get("/api/v1/me/notifications?limit=50");
    const again = () => ctx.navigate("/alerts", { replace: true });
    main.append(...[h("h1", {}, t("alerts.title")),
      page.items.some((a) => !a.read)
        ? h("p", {}, h("button", { type: "button", class: "secondary", async onclick() {
            await post("/api/v1/me/notifications/read-all");
            again();
          } }, t("alerts.markall")))
        : null,
      page.items.length ? h("ul", { class: "alerts" }, page.items.map((a) => alertItem(a, again)))
                        : h("p", {}, t("alerts.none"))].filter(Boolean));
  },
};

const profile = {
  access: "member",
  async render(main, ctx) {
    const [p, prefs] = await Promise.all([get("/api/v1/me/profile"),
                                          get("/api/v1/me/notification-preferences")]);
    const dl = (...pairs) => h("dl", { class: "facts" },
      pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    const fields = {
      language: select({ name: "language", label: t("profile.language"), value: p.language,
        options: [["fr", "Français"], ["en", "English"]] }),
      phone: field({ name: "phone", label: t("profile.phone"), type: "tel", required: false,
        autocomplete: "tel", value: p.phone || "" }),
      mail_channel: select({ name: "mail_channel", label: t("profile.channel"), value: p.mail_channel,
        options: [["email", t("profile.channel.email")], ["post", t("profile.channel.post")]] }),
    };
    const saved = h("p", { class: "alert success", role: "status", hidden: true });
    const prefsForm = form({ fields, submit: t("profile.save"), label: t("profile.preferences"),
      async onSubmit() {
        const language = fields.language.input.value;
        await patch("/api/v1/me/profile", { language, mail_channel: fields.mail_channel.input.value,
          phone: fields.phone.input.value.trim() || null });
        if (language !== lang()) {
          setLanguage(language);
          return ctx.navigate("/profile", { replace: true });
        }
        saved.textContent = t("profile.saved");
        saved.hidden = false;
      } });
    const boxes = Object.entries(prefs.email).map(([category, on]) => {
      const id = `mail-${category}`;
      return h("div", { class: "check" },
        h("input", { type: "checkbox", id, name: category, checked: on,
                     disabled: category === "security" }),
        h("label", { for: id }, t(`category.${category}`)));
    });
    const mailsSaved = h("p", { class: "alert success", role: "status", hidden: true });
    const mails = h("form", { "aria-label": t("profile.mails") },
      h("fieldset", {}, h("legend", {}, t("profile.mails.intro")), boxes),
      mailsSaved,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" },
        t("profile.mails.save"))));
    mails.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = {};
      for (const input of mails.querySelectorAll("input[type=checkbox]")) email[input.name] = input.checked;
      await put("/api/v1/me/notification-preferences", { email });
      mailsSaved.textContent = t("profile.saved");
      mailsSaved.hidden = false;
    });
    main.append(h("h1", {}, t("profile.title")),
      section(t("profile.identity"), dl(
        [t("profile.name"), `${p.first_name} ${p.last_name}`],
        [t("profile.birth"), formatDate(p.birth_date, lang())],
        [t("profile.numbers"), p.subscriptions.map((s) => `${s.registration_number} (${s.fund})`).join(", ")],
        [t("profile.email"), p.email || "—"]),
        h("p", {}, h("a", { href: "/email" }, t("profile.email.change")))),
      section(t("profile.preferences"), saved, prefsForm.el),
      section(t("profile.mails"), mails));
  },
};

const sessions = {
  access: "member",
  async render(main, ctx) {
    const { items } = await get("/api/v1/me/sessions");
    const notice = ctx.takeNotice();
    const again = (text) => { ctx.setNotice(text); ctx.navigate("/sessions", { replace: true }); };
    const others = items.filter((s) => !s.current);
    const row = (s) => h("li", { class: `session${s.current ? " current" : ""}` },
      h("h2", {}, t(`sessions.client.${s.client}`),
        s.current ? h("span", { class: "badge" }, t("sessions.this")) : null),
      h("p", {}, t("sessions.via", { method: t(`method.${s.method}`) })),
      h("p", {}, t("sessions.started", { when: formatDateTime(s.started_at, lang()) })),
      h("p", {}, t("sessions.used", { when: formatDateTime(s.last_used_at, lang()) })),
      h("button", { type: "button", class: s.current ? "secondary" : "danger",
        "data-session": s.session_id, async onclick() {
          await del(`/api/v1/me/sessions/${s.session_id}`);
          if (s.current) { ctx.state.me = null; ctx.setNotice(t("logout.done")); return ctx.navigate("/login", { replace: true }); }
          again(t("sessions.one.ended"));
        } }, s.current ? t("sessions.endthis") : t("sessions.end")));
    main.append(...[h("h1", {}, t("sessions.title")), h("p", {}, t("sessions.intro")),
      notice ? h("p", { class: "alert success", role: "status" }, notice) : null,
      others.length ? h("p", {}, h("button", { type: "button", class: "danger", async onclick() {
        const answer = await post("/api/v1/me/sessions/end-others");
        again(t("sessions.ended", { count: answer.ended }));
      } }, t("sessions.endothers"))) : h("p", {}, t("sessions.none")),
      h("ul", { class: "sessions" }, items.map(row))].filter(Boolean));
  },
};

const password = {
  access: "member",
  async render(main, ctx) {
    const box = h("section", { class: "card narrow" }, h("h1", {}, t("password.title")));
    box.append(passwordForm(ctx, { withCurrent: true, async after({ fields }) {
      for (const f of Object.values(fields)) f.input.value = "";
      box.replaceChildren(h("h1", {}, t("password.title")),
        h("p", { class: "alert success", role: "status" }, t("password.done")),
        h("p", {}, h("a", { href: "/" }, t("nav.home"))));
    } }));
    main.append(box);
  },
};

export const notFound = {
  access: "public",
  async render(main) {
    main.append(h("h1", {}, t("notfound.title")), h("p", {}, h("a", { href: "/" }, t("notfound.back"))));
  },
};

export const routes = {
  "/": home,
  "/alerts": alerts,
  "/profile": profile,
  "/sessions": sessions,
  "/password": password,
};
