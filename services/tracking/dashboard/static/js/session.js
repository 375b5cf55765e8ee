// The signed-in operator: the bearer token pasted at sign-in, kept in sessionStorage, so it
// lives as long as this tab and is sent by script on each call (never a cookie: no request
// another site makes can carry it). The claims are read only to show who is signed in and
// when the token ends; the service checks the signature of every call.

const STORAGE_KEY = "mla.dashboard.token";
const DASHBOARD_ROLES = ["operator", "auditor", "admin"];

export function token() {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function keep(value) {
  sessionStorage.setItem(STORAGE_KEY, value);
}

export function forget() {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function claims(value = token()) {
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part.padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

export function roles(value = token()) {
  const named = claims(value).roles;
  return Array.isArray(named) ? named.filter((r) => DASHBOARD_ROLES.includes(r)) : [];
}

// Milliseconds until the token expires (Infinity when it names no expiry).
export function remaining(value = token()) {
  const expires = Number(claims(value).exp);
  return Number.isFinite(expires) ? expires * 1000 - Date.now() : Infinity;
}
