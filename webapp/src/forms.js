// Sending a form: the problem's errors[] next to each field, the rest above the form.
import { ApiProblem } from "./api.js";
import { formAlert, h, setFieldError } from "./dom.js";
import { fieldErrorText, problemText, t } from "./i18n.js";

export function form({ fields, submit, onSubmit, label }) {
  const alert = formAlert();
  const button = h("button", { type: "submit" }, submit);
  const el = h("form", { novalidate: true, "aria-label": label }, alert.box,
    Object.values(fields).map((f) => f.wrapper || f), h("div", { class: "actions" }, button));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    const inputs = Object.values(fields).filter((f) => f.input);
    inputs.forEach((f) => setFieldError(f, null));
    const missing = inputs.filter((f) => f.input.required && !f.input.value);
    if (missing.length) {
      missing.forEach((f) => setFieldError(f, t("field.required")));
      missing[0].input.focus();
      return;
    }
    button.disabled = true;
    try {
      await onSubmit({ alert, fields });
    } catch (problem) {
      if (!(problem instanceof ApiProblem)) throw problem;
      showProblem(problem, fields, alert);
    } finally {
      button.disabled = false;
    }
  });
  return { el, alert, button };
}

export function showProblem(problem, fields, alert) {
  let first = null;
  const general = [];
  for (const error of problem.errors) {
    const target = fields[error.field];
    if (target?.input) {
      const text = fieldErrorText(error);
      const existing = target.error.hidden ? "" : `${target.error.textContent} `;
      setFieldError(target, existing + text);
      first = first || target.input;
    } else {
      general.push(fieldErrorText(error));
    }
  }
  alert.show([problemText(problem), ...general].join(" "));
  (first || alert.box).focus?.();
  if (!first) alert.box.setAttribute("tabindex", "-1");
}
