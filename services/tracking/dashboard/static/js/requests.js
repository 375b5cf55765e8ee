// The list of requests: tracking's filters and search, sorted and paged by the API (newest
// or oldest received first, a cursor a page), the rows of a page sortable by any column.
// The filters live in the address (#/requests?status=routed&overdue=true), so a view can be
// bookmarked, shared, and opened from the overview's figures.

import { get } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { dateTime, label } from "./format.js";
import { overdueRequests } from "./overview.js";

const STATUSES = ["received", "routing_failed", "routed", "executed", "closed"];
const CHOICES = {
  urgency: ["normal", "urgent"],
  channel: ["ministry_of_justice", "direct", "eurojust", "ejn", "cybercrime_24_7", "interpol"],
  category: [
    "organized_crime", "terrorism", "war_crimes", "corruption", "economic_crime", "money_laundering",
    "cybercrime", "trafficking_human_beings", "trafficking_drugs", "trafficking_weapons",
    "migrant_smuggling", "domestic_violence", "other",
  ],
};
const FILTERS = ["q", "status", "office", "country", "channel", "offence_category", "urgency", "overdue", "due_soon", "received_from", "received_to"];
const COLUMNS = [
  { key: "domestic_reference", title: "requests.col.reference" },
  { key: "foreign_reference", title: "requests.col.foreign" },
  { key: "requesting_authority", title: "requests.col.authority" },
  { key: "country", title: "requests.col.country" },
  { key: "status", title: "requests.col.status" },
  { key: "urgency", title: "requests.col.urgency" },
  { key: "offices", title: "requests.col.offices" },
  { key: "received_at", title: "requests.col.received", server: true },
  { key: "updated_at", title: "requests.col.updated" },
];

const state = {
  filters: new URLSearchParams(),
  sort: "-received_at",
  cursors: [null],
  page: 0,
  next: null,
  items: [],
  rowSort: null, // {key, ascending}: the rows of this page, sorted here
};

export function setUpFilters(onApply) {
  const statuses = byId("f-status");
  fill(
    statuses,
    STATUSES.map((status) =>
      el("label", {}, el("input", { type: "checkbox", name: "status", value: status }), " ", el("span", { "data-status": status, text: label("status", status) })),
    ),
  );
  for (const select of document.querySelectorAll("#filters select[data-options]")) {
    const group = select.dataset.options;
    fill(select, el("option", { value: "", text: t("requests.any") }), CHOICES[group].map((value) => el("option", { value, "data-code": value, text: label(group, value) })));
  }
  const form = byId("filters");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onApply(filtersOfForm(form));
  });
  byId("filters-clear").addEventListener("click", () => onApply(new URLSearchParams()));
  byId("page-previous").addEventListener("click", () => turn(-1));
  byId("page-next").addEventListener("click", () => turn(1));
  byId("page-size").addEventListener("change", () => reload());
}

// Texts that depend on the language, again after it changed.
export function translateFilters() {
  for (const span of document.querySelectorAll("#f-status [data-status]")) span.textContent = label("status", span.dataset.status);
  for (const select of document.querySelectorAll("#filters select[data-options]")) {
    for (const option of select.options) {
      option.textContent = option.value ? label(select.dataset.options, option.value) : t("requests.any");
    }
  }
  renderRows();
}

function filtersOfForm(form) {
  const chosen = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    const text = String(value).trim();
    if (text) chosen.append(name, name === "country" ? text.toUpperCase() : text);
  }
  return chosen;
}

function showFiltersInForm(filters) {
  const form = byId("filters");
  for (const input of form.querySelectorAll("input, select")) {
    if (input.type === "checkbox") input.checked = filters.getAll(input.name).includes(input.value);
    else input.value = filters.get(input.name) || "";
  }
}

export async function showRequests(filters) {
  state.filters = new URLSearchParams([...filters].filter(([name]) => FILTERS.includes(name)));
  showFiltersInForm(state.filters);
  await reload();
}

async function reload() {
  state.cursors = [null];
  state.page = 0;
  await load();
}

async function turn(step) {
  const page = state.page + step;
  if (page < 0 || (step > 0 && !state.next)) return;
  if (step > 0) state.cursors[page] = state.next;
  state.page = page;
  await load();
  byId("requests-title").focus();
}

// The page shown now, fetched again (a live event may have changed it).
export async function refreshRequests() {
  await load({ quiet: true });
}

function apiParameters() {
  const parameters = {};
  for (const name of new Set(state.filters.keys())) {
    const values = state.filters.getAll(name);
    parameters[name] = name === "status" ? values : values[0];
  }
  // The form gives days; the API takes moments: a day from its start, in local time.
  for (const name of ["received_from", "received_to"]) {
    if (parameters[name]) parameters[name] = new Date(`${parameters[name]}T00:00:00`).toISOString();
  }
  return {
    ...parameters,
    sort: state.sort,
    limit: byId("page-size").value,
    cursor: state.cursors[state.page],
  };
}

async function load({ quiet = false } = {}) {
  const error = byId("requests-error");
  if (!quiet) byId("requests-status").textContent = t("requests.loading");
  try {
    const page = await get("/v1/requests", apiParameters());
    state.items = page.items;
    state.next = page.next_cursor;
    error.textContent = "";
    renderRows();
    byId("requests-status").textContent = quiet ? t("requests.new_events") : "";
  } catch (failure) {
    if (failure.status !== 401) {
      const detail = failure.problem?.detail;
      error.textContent = detail || t("common.error", { status: failure.status || "—" });
    }
  }
}

function sortedItems() {
  if (!state.rowSort) return state.items;
  const { key, ascending } = state.rowSort;
  const text = (item) => (Array.isArray(item[key]) ? item[key].join(", ") : item[key] ?? "");
  return [...state.items].sort((a, b) => String(text(a)).localeCompare(String(text(b)), undefined, { numeric: true }) * (ascending ? 1 : -1));
}

function sortState(column) {
  if (column.server) return state.rowSort ? "none" : state.sort.startsWith("-") ? "descending" : "ascending";
  if (state.rowSort?.key !== column.key) return "none";
  return state.rowSort.ascending ? "ascending" : "descending";
}

function sortBy(column) {
  if (column.server) {
    state.sort = !state.rowSort && state.sort === "-received_at" ? "received_at" : "-received_at";
    state.rowSort = null;
    reload();
    return;
  }
  const ascending = state.rowSort?.key === column.key ? !state.rowSort.ascending : true;
  state.rowSort = { key: column.key, ascending };
  renderRows();
}

function renderHead() {
  fill(
    byId("requests-head"),
    COLUMNS.map((column) => {
      const sorted = sortState(column);
      const title = t(column.title);
      return el(
        "th",
        { scope: "col", "aria-sort": sorted },
        el(
          "button",
          { type: "button", class: "sort", title: t("requests.sort_by", { column: title }), onclick: () => sortBy(column) },
          title,
          el("span", { class: "sort-mark", "aria-hidden": "true", text: sorted === "ascending" ? " ▲" : sorted === "descending" ? " ▼" : "" }),
        ),
      );
    }),
  );
}

function cell(item, key) {
  const value = item[key];
  switch (key) {
    case "domestic_reference":
      return el("a", { href: `#/requests/${encodeURIComponent(item.request_id)}`, text: value || t("requests.pending") });
    case "status":
      return el("span", { class: `badge status-${value}`, text: label("status", value) });
    case "urgency":
      return value === "urgent" ? el("strong", { text: label("urgency", value) }) : label("urgency", value);
    case "offices":
      return (value || []).join(", ") || t("common.none");
    case "received_at":
    case "updated_at":
      return el("time", { datetime: value, text: dateTime(value) });
    default:
      return value || t("common.none");
  }
}

function renderRows() {
  renderHead();
  const body = byId("requests-body");
  if (!state.items.length) {
    fill(body, el("tr", {}, el("td", { colspan: COLUMNS.length, class: "muted", text: t("requests.empty") })));
  } else {
    fill(
      body,
      sortedItems().map((item) => {
        const urgent = overdueRequests.has(item.request_id) && item.status !== "closed";
        const cells = COLUMNS.map((column) => el(column.key === "domestic_reference" ? "th" : "td", column.key === "domestic_reference" ? { scope: "row" } : {}, cell(item, column.key)));
        if (urgent) cells[0].append(" ", el("span", { class: "badge urgent", text: t("badge.overdue") }));
        return el("tr", { class: urgent ? "urgent-row" : "", "data-request": item.request_id }, cells);
      }),
    );
  }
  byId("page-number").textContent = t("requests.page", { page: state.page + 1 });
  byId("page-previous").disabled = state.page === 0;
  byId("page-next").disabled = !state.next;
}

export function markOverdue(requestId, overdue) {
  if (overdue) overdueRequests.add(requestId);
  else overdueRequests.delete(requestId);
  if (state.items.some((item) => item.request_id === requestId)) renderRows();
}
