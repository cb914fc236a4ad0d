// The API over the web session: HttpOnly cookies carry the tokens (never readable here),
// the readable ms_csrf cookie is echoed in X-CSRF-Token on every state-changing call.
// An expired access token is renewed with one refresh at a time across every tab of
// the browser (Web Locks): two refreshes at once would spend the same refresh token
// twice, which ends the session by design.

const SAFE = new Set(["GET", "HEAD"]);
const LOCK = "memberspace-refresh";

export class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "network_error";
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.body = body || {};
  }
}

export function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method)) {
    const csrf = cookie("ms_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiProblem(0, { code: "network_error" });
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiProblem(response.status, data);
  return data;
}

// Refresh once, whichever tab asks first; the others find the CSRF cookie already
// renewed when they get the lock, and only retry.
export async function refreshSession() {
  const before = cookie("ms_csrf");
  const run = async () => {
    if (cookie("ms_csrf") !== before && cookie("ms_csrf")) return true;
    try {
      await send("POST", "/api/v1/auth/refresh");
      return true;
    } catch (problem) {
      if (problem.status === 401 || problem.status === 403) return false;
      throw problem;
    }
  };
  if (navigator.locks?.request) return navigator.locks.request(LOCK, run);
  return run();
}

let onSessionLost = () => {};
export function whenSessionLost(handler) { onSessionLost = handler; }

// `quiet`: a 401 that no refresh cures is the caller's to handle (no redirect to login).
export async function api(method, path, body, { quiet = false } = {}) {
  try {
    return await send(method, path, body);
  } catch (problem) {
    if (!(problem instanceof ApiProblem) || problem.status !== 401) throw problem;
    if (path.startsWith("/api/v1/auth/login") || path === "/api/v1/auth/refresh") throw problem;
    if (["invalid_token", "authentication_required"].includes(problem.code)
        && await refreshSession()) {
      return send(method, path, body);
    }
    if (!quiet) onSessionLost(problem);
    throw problem;
  }
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);
