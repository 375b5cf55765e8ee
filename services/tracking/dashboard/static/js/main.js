// The dashboard's wiring: sign-in, the views behind the address (#/overview,
// #/requests?filters, #/requests/<id>), the live stream, and the language.

import { ApiError, get, whenUnauthorized } from "./api.js";
import { byId, throttled } from "./dom.js";
import { apply, onLanguageChange, preferredLanguage, setLanguage, t } from "./i18n.js";
import { LiveStream } from "./live.js";
import { renderDetail, showDetail, shownRequest } from "./detail.js";
import { overdueRequests, recordActivity, refreshOverview, renderOverview, verifyChain } from "./overview.js";
import { markOverdue, refreshRequests, setUpFilters, showRequests, translateFilters } from "./requests.js";
import { claims, forget, keep, remaining, roles, token } from "./session.js";

const VIEWS = ["signin", "overview", "requests", "detail"];
// The overview is fetched again at least this often: deadlines pass without any event.
const OVERVIEW_EVERY = 60000;
// Live events refresh what is on screen at most this often.
const REFRESH_AT_MOST_EVERY = 1500;

let current = null;
let expiryTimer = null;
let overviewTimer = null;

const live = new LiveStream({
  onEvent: receive,
  onState: showLiveState,
  onUnauthorized: () => signOut("signin.expired"),
});

const refreshOverviewSoon = throttled(() => loadOverview(), REFRESH_AT_MOST_EVERY * 2);
const refreshListSoon = throttled(() => current === "requests" && refreshRequests(), REFRESH_AT_MOST_EVERY);
const refreshDetailSoon = throttled(async () => {
  if (current === "detail" && shownRequest()) await showDetail(shownRequest());
}, REFRESH_AT_MOST_EVERY);

function show(view) {
  current = view;
  for (const name of VIEWS) byId(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll("#nav a")) {
    const active = link.dataset.route === view || (view === "detail" && link.dataset.route === "requests");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  showTitle();
}

// The tab's title leads with the number of overdue requests, so that a tab left in the
// background still says when something is late.
function showTitle() {
  if (!current) return;
  const heading = byId(`view-${current}`).querySelector("h1").textContent;
  const overdue = token() ? overdueRequests.size : 0;
  document.title = `${overdue ? `(${overdue}) ` : ""}${heading} — ${t("app.title")}`;
}

// The address names the view; moving focus to its heading tells a screen reader it changed.
async function route() {
  if (!token()) {
    show("signin");
    return;
  }
  const address = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = address.split("?");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "requests" && parts[1]) {
    show("detail");
    await showDetail(decodeURIComponent(parts[1]));
  } else if (parts[0] === "requests") {
    show("requests");
    await showRequests(new URLSearchParams(search));
  } else {
    show("overview");
    await loadOverview();
  }
  byId(`view-${current}`).querySelector("h1").focus();
  showTitle();
}

async function loadOverview() {
  try {
    await refreshOverview();
    byId("overview-error").textContent = "";
    showTitle();
  } catch (failure) {
    if (failure.status !== 401) byId("overview-error").textContent = t("common.error", { status: failure.status || "—" });
  }
}

function receive(event) {
  recordActivity(event);
  markOverdue(event.request_id, Boolean(event.overdue) && event.status !== "closed");
  if (event.type === "mla.request.deadline_breached") {
    announce(t("announce.overdue", { reference: event.domestic_reference || event.request_id }));
  }
  showTitle();
  refreshOverviewSoon();
  refreshListSoon();
  if (event.request_id === shownRequest()) refreshDetailSoon();
}

function announce(text) {
  const announcer = byId("announcer");
  announcer.textContent = "";
  // A fresh text in a live region is what gets read: set it on the next frame.
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

function showLiveState(state) {
  const indicator = byId("live-state");
  indicator.className = `live live-${state}`;
  const text = byId("live-text");
  text.dataset.i18n = `live.${state}`;
  text.textContent = t(`live.${state}`);
}

function showSignedIn() {
  const signedIn = Boolean(token());
  byId("nav").hidden = !signedIn;
  byId("sign-out").hidden = !signedIn;
  byId("live-state").hidden = !signedIn;
  const who = byId("who");
  who.hidden = !signedIn;
  if (signedIn) {
    const named = roles().map((role) => t(`role.${role}`)).join(", ");
    who.textContent = t("signin.as", { subject: claims().sub || "?", roles: named });
  }
}

function startSession() {
  showSignedIn();
  live.start();
  clearTimeout(expiryTimer);
  const left = remaining();
  // setTimeout takes at most 2^31-1 ms; a longer token is checked again by the API anyway.
  if (Number.isFinite(left)) expiryTimer = setTimeout(() => signOut("signin.expired"), Math.max(0, Math.min(left, 2 ** 31 - 1)));
  clearInterval(overviewTimer);
  overviewTimer = setInterval(() => current === "overview" && loadOverview(), OVERVIEW_EVERY);
}

function signOut(messageKey) {
  forget();
  live.stop();
  clearTimeout(expiryTimer);
  clearInterval(overviewTimer);
  showSignedIn();
  const message = byId("signin-message");
  message.dataset.i18n = messageKey || "";
  message.textContent = messageKey ? t(messageKey) : "";
  if (location.hash !== "#/overview" && messageKey !== "signin.expired") location.hash = "#/overview";
  show("signin");
  byId("signin-title").focus();
}

async function signIn(event) {
  event.preventDefault();
  const field = byId("token");
  // A pasted "export MLA_OPERATOR_TOKEN=..." line (as `make run` prints it) or an
  // "Authorization: Bearer ..." header value works as well as the bare token.
  const candidate = field.value
    .trim()
    .replace(/^export\s+\w+=/, "")
    .replace(/^(Authorization:\s*)?Bearer\s+/i, "");
  const message = byId("signin-message");
  const say = (key) => {
    message.dataset.i18n = key;
    message.textContent = t(key);
  };
  if (!candidate) {
    say("signin.empty");
    field.focus();
    return;
  }
  say("signin.checking");
  try {
    await get("/v1/overview", {}, candidate);
  } catch (failure) {
    const status = failure instanceof ApiError ? failure.status : 0;
    say(status === 401 ? "signin.invalid" : status === 403 ? "signin.forbidden" : "signin.unreachable");
    field.focus();
    return;
  }
  keep(candidate);
  field.value = "";
  say("");
  message.textContent = "";
  startSession();
  await route();
}

async function boot() {
  const language = byId("language");
  await setLanguage(preferredLanguage());
  language.value = document.documentElement.lang;
  language.addEventListener("change", () => setLanguage(language.value));
  onLanguageChange(() => {
    showSignedIn();
    translateFilters();
    renderOverview();
    renderDetail();
    if (current) show(current);
  });
  setUpFilters((filters) => {
    const search = filters.toString();
    location.hash = search ? `#/requests?${search}` : "#/requests";
  });
  whenUnauthorized(() => signOut("signin.expired"));
  byId("signin-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut(""));
  byId("overview-refresh").addEventListener("click", () => loadOverview());
  byId("audit-verify").addEventListener("click", () => verifyChain());
  window.addEventListener("hashchange", () => route());
  apply();
  if (token()) startSession();
  await route();
}

boot();
