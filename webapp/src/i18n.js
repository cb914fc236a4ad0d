// French by default, English on a switch: remembered in the `lang` cookie (which the
// API reads too) and, once logged in, in the member's profile.
import { fr, en } from "./messages.js";

const DICTIONARIES = { fr, en };
let current = readCookieLanguage() || "fr";

export function readCookieLanguage() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("lang="));
  const value = found ? found.slice(5) : null;
  return value === "en" || value === "fr" ? value : null;
}

export function lang() { return current; }

export function setLanguage(value) {
  current = value === "en" ? "en" : "fr";
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `lang=${current}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  document.documentElement.lang = current;
}

// t("key", {name: "x"}) -> the text in the current language, with {name} replaced.
export function t(key, params = {}) {
  const text = DICTIONARIES[current][key] ?? DICTIONARIES.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// A problem in plain words: the code's message when we have one, else the API's detail.
export function problemText(problem) {
  const key = `problem.${problem.code}`;
  const dict = DICTIONARIES[current];
  if (dict[key]) return t(key);
  if (current === "fr") return t("problem.generic");
  return problem.message || t("problem.generic");
}

export function fieldErrorText(error) {
  const key = `field.${error.code}`;
  if (DICTIONARIES[current][key]) return t(key);
  return current === "en" && error.detail ? error.detail : t("field.invalid");
}
