// The member web app: the shell (header, language switch, banner, menu, footer) and
// the router. Screens are modules listing their routes (src/screens/*.js); part 2 of
// the app adds its screens to SCREENS and its menu entries to MENU.
import "./style.css";
import { ApiProblem, get, patch, post, whenSessionLost } from "./api.js";
import { h } from "./dom.js";
import { lang, readCookieLanguage, setLanguage, t } from "./i18n.js";
import * as auth from "./screens/auth.js";
import * as space from "./screens/space.js";

const SCREENS = { ...auth.routes, ...space.routes };
export const MENU = [
  ["/", "nav.home"], ["/alerts", "nav.alerts"], ["/profile", "nav.profile"],
  ["/sessions", "nav.sessions"], ["/password", "nav.password"],
];

// What the app knows of the member; null when logged out.
export const state = { me: null, status: null };

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

async function loadMe() {
  try {
    state.me = await get("/api/v1/me", { quiet: true });
  } catch (problem) {
    if (!(problem instanceof ApiProblem) || problem.status !== 401) throw problem;
    state.me = null;
  }
  return state.me;
}

// After any login: adopt the profile's language, or store the one chosen before login.
export async function afterLogin() {
  const me = await loadMe();
  if (!me) return navigate("/login", { replace: true });
  const chosen = readCookieLanguage();
  if (chosen && chosen !== me.language && me.email_validated && !me.must_change_password) {
    try { await patch("/api/v1/me/profile", { language: chosen }); } catch { /* kept in the cookie */ }
  } else if (!chosen && me.language) {
    setLanguage(me.language);
  }
  navigate(gateFor(me) || "/", { replace: true });
}

// Where a member must go first: the password the fund gave, then a validated e-mail.
export function gateFor(me) {
  if (me.must_change_password) return "/first-password";
  if (!me.email_validated) return "/email";
  return null;
}

async function loadStatus() {
  try {
    state.status = await get("/api/v1/status");
  } catch {
    state.status = null;
  }
}

function banner() {
  const status = state.status;
  if (!status) return null;
  const parts = [];
  if (status.maintenance?.active) {
    const message = lang() === "en" ? status.maintenance.message_en : status.maintenance.message_fr;
    parts.push(h("p", {}, h("strong", {}, t("banner.maintenance")), " — ", message));
  }
  if (status.in_update_window && status.window) {
    parts.push(h("p", {}, t("banner.window", { start: status.window.start, end: status.window.end })));
  }
  return parts.length ? h("div", { class: "banner", role: "status" }, parts) : null;
}

function header(member) {
  const switchLanguage = async () => {
    const next = lang() === "en" ? "fr" : "en";
    setLanguage(next);
    if (state.me?.email_validated && !state.me.must_change_password) {
      try { await patch("/api/v1/me/profile", { language: next }); } catch { /* the cookie keeps it */ }
    }
    render();
  };
  return h("header", { class: "top" },
    h("div", { class: "brand" },
      h("span", { class: "fund" }, t("app.fund")),
      h("span", { class: "space" }, t("app.title"))),
    h("div", { class: "tools" },
      h("button", { type: "button", class: "link-button", lang: lang() === "en" ? "fr" : "en",
                    onclick: switchLanguage },
        t("lang.switch")),
      member ? h("button", { type: "button", class: "secondary", onclick: logout }, t("nav.logout")) : null));
}

function menu(path) {
  return h("nav", { "aria-label": t("nav.label"), class: "menu" },
    h("ul", {}, MENU.map(([href, key]) => h("li", {},
      h("a", { href, "aria-current": href === path ? "page" : false }, t(key))))));
}

function footer() {
  return h("footer", { class: "bottom" }, h("p", {}, t("footer.hours")), h("p", {}, t("footer.help")));
}

export async function logout() {
  try { await post("/api/v1/auth/logout"); } catch { /* the session may be gone already */ }
  state.me = null;
  sessionNotice = t("logout.done");
  navigate("/login", { replace: true });
}

let sessionNotice = null;
export function takeNotice() {
  const notice = sessionNotice;
  sessionNotice = null;
  return notice;
}
export function setNotice(text) { sessionNotice = text; }

whenSessionLost((problem) => {
  state.me = null;
  sessionNotice = problem.code === "session_ended" ? t("problem.session_ended") : null;
  navigate("/login", { replace: true });
});

let rendering = 0;
export async function render() {
  const ticket = ++rendering;
  document.documentElement.lang = lang();
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const screen = SCREENS[path] || space.notFound;
  if (screen.access !== "public" && state.me === null) await loadMe();
  if (ticket !== rendering) return;
  if (screen.access !== "public") {
    if (!state.me) return navigate("/login", { replace: true });
    const gate = gateFor(state.me);
    if (gate && screen.access !== "gate" && path !== gate) return navigate(gate, { replace: true });
  }
  const memberArea = screen.access === "member" && state.me && !gateFor(state.me);
  const main = h("main", { id: "main", tabindex: "-1" });
  const root = document.getElementById("app");
  root.replaceChildren(...[header(state.me), banner(), memberArea ? menu(path) : null, main,
    footer()].filter(Boolean));
  document.querySelector(".skip").textContent = t("app.skip");
  try {
    await screen.render(main, { path, navigate, state, afterLogin, logout, takeNotice, setNotice });
  } catch (problem) {
    if (ticket !== rendering) return;
    if (problem instanceof ApiProblem && problem.status === 403
        && ["password_change_required", "email_not_validated"].includes(problem.code)) {
      await loadMe();
      return navigate(gateFor(state.me) || "/", { replace: true });
    }
    if (!(problem instanceof ApiProblem) || problem.status !== 401) {
      main.append(h("div", { class: "alert error", role: "alert" }, t("problem.generic")));
    }
  }
  if (ticket !== rendering) return;
  const title = main.querySelector("h1");
  document.title = `${title ? `${title.textContent} – ` : ""}${t("app.title")}`;
  if (screen.focusFirst !== false) (title || main).setAttribute("tabindex", "-1");
  if (!initial) (title || main).focus();
  initial = false;
}
let initial = true;

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || link.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener("popstate", () => render());

document.documentElement.lang = lang();
loadStatus().then(render);
setInterval(() => loadStatus().then(() => {
  const old = document.querySelector(".banner");
  const fresh = banner();
  if (old && fresh) old.replaceWith(fresh);
  else if (old) old.remove();
  else if (fresh) document.querySelector("header.top")?.after(fresh);
}), 60000);
