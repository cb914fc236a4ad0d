// Small DOM helpers: elements from tag, attributes and children; never innerHTML with data.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A labelled input with an optional hint and a place for its error (errors[] of a problem).
export function field({ name, label, type = "text", hint, autocomplete, value = "",
                        required = true, inputmode, extra = {} }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h("input", {
    id, name, type, autocomplete, inputmode, required,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    ...extra,
  });
  input.value = value;
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const wrapper = h("div", { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input, error);
  wrapper.dataset.field = name;
  return { wrapper, input, error };
}

export function select({ name, label, options, value }) {
  const id = uid(name);
  const input = h("select", { id, name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.setAttribute("aria-describedby", `${id}-error`);
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), input, error);
  wrapper.dataset.field = name;
  return { wrapper, input, error };
}

export function setFieldError(f, message) {
  f.error.textContent = message || "";
  f.error.hidden = !message;
  if (message) f.input.setAttribute("aria-invalid", "true");
  else f.input.removeAttribute("aria-invalid");
}

export function formAlert() {
  const box = h("div", { class: "alert error", role: "alert", hidden: true });
  return {
    box,
    show(message) { box.textContent = message; box.hidden = !message; },
    clear() { box.textContent = ""; box.hidden = true; },
  };
}

export function formatDateTime(iso, lang) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR",
    { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Monaco" }).format(new Date(iso));
}

export function formatDate(iso, lang) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR",
    { dateStyle: "long", timeZone: "UTC" }).format(new Date(iso));
}
