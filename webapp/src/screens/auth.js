// Signing in and the account's gates: login (with MConnect), the forgotten password and
// its reset link, the first-connection password change, the e-mail registration and
// its validation link.
import { ApiProblem, post, put, refreshSession } from "../api.js";
import { field, h } from "../dom.js";
import { problemText, t } from "../i18n.js";
import { form } from "../forms.js";
import { passwordRules } from "../passwordRules.js";

function card(...children) {
  return h("section", { class: "card narrow" }, ...children);
}

const login = {
  access: "public",
  async render(main, ctx) {
    if (ctx.state.me) return ctx.afterLogin();
    const params = new URLSearchParams(location.search);
    const fields = {
      identifier: field({ name: "identifier", label: t("login.identifier"),
        hint: t("login.identifier.hint"), autocomplete: "username",
        extra: { spellcheck: "false", autocapitalize: "none" } }),
      password: field({ name: "password", label: t("login.password"), type: "password",
        autocomplete: "current-password" }),
    };
    const f = form({ fields, submit: t("login.submit"), label: t("login.title"),
      async onSubmit() {
        await post("/api/v1/auth/login", { identifier: fields.identifier.input.value.trim(),
          password: fields.password.input.value, client: "web" });
        await ctx.afterLogin();
      } });
    const notice = ctx.takeNotice();
    const mconnectError = params.get("mconnect_error");
    if (mconnectError) history.replaceState(null, "", "/login");
    main.append(card(
      h("h1", {}, t("login.title")),
      notice ? h("p", { class: "alert info", role: "status" }, notice) : null,
      mconnectError ? h("p", { class: "alert error", role: "alert" },
        problemText(new ApiProblem(401, { code: mconnectError }))) : null,
      f.el,
      h("p", {}, h("a", { href: "/password/forgot" }, t("login.forgot"))),
      h("p", { class: "or" }, t("login.or")),
      h("p", {}, h("a", { class: "button mconnect", href: "/api/v1/auth/mconnect/start?client=web" },
        t("login.mconnect"))),
      h("p", { class: "hint" }, t("login.protect"))));
  },
};

function newPasswordFields(withCurrent) {
  const fields = {};
  if (withCurrent) {
    fields.current_password = field({ name: "current_password", label: t("password.current"),
      type: "password", autocomplete: "current-password" });
  }
  fields.new_password = field({ name: "new_password", label: t("password.new"), type: "password",
    autocomplete: "new-password" });
  fields.new_password.wrapper.append(passwordRules(fields.new_password.input));
  fields.confirm = field({ name: "confirm", label: t("password.confirm"), type: "password",
    autocomplete: "new-password" });
  return fields;
}

function mismatch(fields) {
  if (fields.new_password.input.value === fields.confirm.input.value) return false;
  throw new ApiProblem(422, { code: "validation_failed",
    errors: [{ field: "confirm", code: "mismatch", detail: t("password.mismatch") }] });
}

export function passwordForm(ctx, { withCurrent, after }) {
  const fields = newPasswordFields(withCurrent);
  return form({ fields, submit: t("password.submit"), label: t("password.title"),
    async onSubmit({ alert }) {
      mismatch(fields);
      await post("/api/v1/auth/password", {
        current_password: fields.current_password.input.value,
        new_password: fields.new_password.input.value });
      await after({ alert, fields });
    } }).el;
}

const firstPassword = {
  access: "gate",
  async render(main, ctx) {
    if (!ctx.state.me.must_change_password) return ctx.navigate("/", { replace: true });
    main.append(card(h("h1", {}, t("first.title")), h("p", {}, t("first.intro")),
      passwordForm(ctx, { withCurrent: true, async after() { await ctx.afterLogin(); } })));
  },
};

const registerEmail = {
  access: "gate",
  async render(main, ctx) {
    const me = ctx.state.me;
    if (me.must_change_password) return ctx.navigate("/first-password", { replace: true });
    const fields = { email: field({ name: "email", label: t("email.address"), type: "email",
      autocomplete: "email", value: me.email || "" }) };
    const sent = h("p", { class: "alert info", role: "status", hidden: true });
    const f = form({ fields, submit: t("email.submit"), label: t("email.title"),
      async onSubmit() {
        const answer = await put("/api/v1/me/email", { email: fields.email.input.value.trim() });
        sent.textContent = t("email.sent", { email: answer.pending_email,
                                             hours: answer.expires_in_hours });
        sent.hidden = false;
        sent.focus?.();
      } });
    main.append(card(h("h1", {}, me.email_validated ? t("profile.email.change") : t("email.title")),
      me.email_validated ? null : h("p", {}, t("email.intro")), sent, f.el));
  },
};

const verifyEmail = {
  access: "public",
  async render(main, ctx) {
    const token = new URLSearchParams(location.search).get("token");
    history.replaceState(null, "", "/email/verify"); // the token leaves the address bar
    const status = h("p", { role: "status" }, token ? t("verify.pending") : t("verify.missing"));
    const box = card(h("h1", {}, t("verify.title")), status);
    main.append(box);
    if (!token) return;
    try {
      const answer = await post("/api/v1/auth/email/verify", { token });
      status.textContent = t("verify.done", { email: answer.email });
      status.className = "alert success";
      // a logged-in member gets a fresh token that knows the address is validated
      const loggedIn = await refreshSession().catch(() => false);
      box.append(h("p", {}, loggedIn
        ? h("a", { class: "button", href: "/" }, t("verify.continue"))
        : h("a", { class: "button", href: "/login" }, t("verify.login"))));
      ctx.state.me = null; // read again on the next screen
    } catch (problem) {
      if (!(problem instanceof ApiProblem)) throw problem;
      status.textContent = problemText(problem);
      status.className = "alert error";
      status.setAttribute("role", "alert");
    }
  },
};

const forgot = {
  access: "public",
  async render(main) {
    const fields = { identifier: field({ name: "identifier", label: t("login.identifier"),
      hint: t("login.identifier.hint"), autocomplete: "username" }) };
    const done = h("p", { class: "alert success", role: "status", hidden: true });
    const f = form({ fields, submit: t("forgot.submit"), label: t("forgot.title"),
      async onSubmit() {
        await post("/api/v1/auth/password/forgot",
          { identifier: fields.identifier.input.value.trim() });
        done.textContent = t("forgot.done");
        done.hidden = false;
      } });
    main.append(card(h("h1", {}, t("forgot.title")), h("p", {}, t("forgot.intro")), done, f.el,
      h("p", { class: "hint" }, t("forgot.support")),
      h("p", {}, h("a", { href: "/login" }, t("back.login")))));
  },
};

let resetToken = null; // kept in memory only, until the member submits
const reset = {
  access: "public",
  async render(main) {
    const fromLink = new URLSearchParams(location.search).get("token");
    if (fromLink) {
      resetToken = fromLink;
      history.replaceState(null, "", "/password/reset");
    }
    const box = card(h("h1", {}, t("reset.title")));
    main.append(box);
    if (!resetToken) {
      box.append(h("p", { class: "alert error", role: "alert" }, t("reset.missing")),
        h("p", {}, h("a", { href: "/password/forgot" }, t("login.forgot"))));
      return;
    }
    const fields = newPasswordFields(false);
    const f = form({ fields, submit: t("reset.submit"), label: t("reset.title"),
      async onSubmit() {
        mismatch(fields);
        try {
          await post("/api/v1/auth/password/reset",
            { token: resetToken, new_password: fields.new_password.input.value });
        } catch (problem) {
          if (problem instanceof ApiProblem && problem.errors.length) {
            problem.errors = problem.errors.map((e) => e.field === "new_password" || e.field === "password"
              ? { ...e, field: "new_password" } : e);
          }
          throw problem;
        }
        resetToken = null;
        box.replaceChildren(h("h1", {}, t("reset.title")),
          h("p", { class: "alert success", role: "status" }, t("reset.done")),
          h("p", {}, h("a", { class: "button", href: "/login" }, t("verify.login"))));
      } });
    box.append(f.el);
  },
};

export const routes = {
  "/login": login,
  "/first-password": firstPassword,
  "/email": registerEmail,
  "/email/verify": verifyEmail,
  "/password/forgot": forgot,
  "/password/reset": reset,
};
