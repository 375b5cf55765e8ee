// tracking's JSON API, called with the signed-in operator's bearer token. A 401 means the
// token ended or was refused: the page signs out (see main.js) instead of showing errors.

import { token } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let unauthorized = () => {};

export function whenUnauthorized(handler) {
  unauthorized = handler;
}

export function query(parameters = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || one === null || one === "" || one === false) continue;
      search.append(name, String(one));
    }
  }
  return search;
}

export async function get(path, parameters = {}, bearer = token()) {
  const search = query(parameters).toString();
  let response;
  try {
    response = await fetch(search ? `${path}?${search}` : path, {
      headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.ok) return response.json();
  const problem = await response.json().catch(() => null);
  if (response.status === 401 && bearer === token()) unauthorized();
  throw new ApiError(response.status, problem);
}
