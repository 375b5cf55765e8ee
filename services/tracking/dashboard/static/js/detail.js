// One request: its parties, measures, assignments and their offices, each deadline with
// its basis and state, and the whole timeline from the archive. Personal fields read
// "erased" once the request's key was destroyed (`{"erased": true}`).

import { get } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { date, dateTime, eventLabel, label } from "./format.js";
import { overdueRequests } from "./overview.js";

let shown = null; // {request, timeline}

export function shownRequest() {
  return shown?.request.request_id ?? null;
}

export async function showDetail(requestId) {
  const error = byId("detail-error");
  try {
    const [request, timeline] = await Promise.all([
      get(`/v1/requests/${encodeURIComponent(requestId)}`),
      get(`/v1/requests/${encodeURIComponent(requestId)}/timeline`),
    ]);
    shown = { request, timeline };
    error.textContent = "";
    renderDetail();
  } catch (failure) {
    if (failure.status === 401) return;
    shown = null;
    fill(byId("detail-body"));
    byId("detail-title").textContent = requestId;
    fill(byId("detail-badges"));
    error.textContent = failure.status === 404 ? t("detail.not_found") : t("common.error", { status: failure.status || "—" });
  }
}

function personal(value, render = (v) => v) {
  if (value && typeof value === "object" && value.erased) return el("em", { class: "erased", text: t("common.erased") });
  if (value && typeof value === "object" && "sealed" in value) return el("em", { class: "erased", text: t("common.sealed") });
  if (value === null || value === undefined || value === "") return t("common.none");
  return render(value);
}

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(Boolean).flatMap(([term, value]) => [el("dt", { text: t(term) }), el("dd", {}, value)]));
}

function section(titleKey, ...content) {
  const id = `detail-${titleKey.replace(/\W/g, "-")}`;
  return el("section", { class: "panel", "aria-labelledby": id }, el("h2", { id, text: t(titleKey) }), ...content);
}

function table(headKeys, rows, emptyKey) {
  if (!rows.length) return el("p", { class: "muted", text: t(emptyKey) });
  return el(
    "div",
    { class: "table-wrap" },
    el("table", {}, el("thead", {}, el("tr", {}, headKeys.map((key) => el("th", { scope: "col", text: t(key) })))), el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c)))))),
  );
}

// The read model writes an assignment's measure as "type @ place".
function measureOf(text) {
  const [type, place] = text.split(" @ ");
  return place === undefined ? text : `${label("measure", type)} — ${place}`;
}

function contact(value) {
  return personal(value, (c) => [c.email, c.phone, c.address].filter(Boolean).join(" · ") || t("common.none"));
}

export function renderDetail() {
  if (!shown) return;
  const { request, timeline } = shown;
  const details = request.details || {};
  const requesting = details.requesting_authority || {};
  const requested = details.requested_authority || {};
  const overdue = (request.deadlines || []).some((d) => d.state === "overdue") || overdueRequests.has(request.request_id);
  byId("detail-title").textContent = t("detail.title", { reference: request.domestic_reference || request.request_id });
  byId("view-detail").classList.toggle("urgent-view", overdue);
  fill(
    byId("detail-badges"),
    el("span", { class: `badge status-${request.status}`, text: label("status", request.status) }),
    request.urgency === "urgent" ? el("span", { class: "badge warn", text: label("urgency", "urgent") }) : null,
    overdue ? el("span", { class: "badge urgent", text: t("badge.overdue") }) : null,
  );
  fill(
    byId("detail-body"),
    request.personal_data_erased_at ? el("p", { class: "notice", text: t("detail.personal_erased", { time: dateTime(request.personal_data_erased_at) }) }) : null,
    el(
      "div",
      { class: "grid" },
      section(
        "detail.summary",
        facts([
          ["detail.status", label("status", request.status)],
          request.outcome && ["detail.outcome", request.outcome],
          request.routing_failure && ["detail.routing_failure", request.routing_failure],
          ["detail.direction", label("direction", details.direction)],
          ["detail.channel", label("channel", details.channel)],
          ["detail.legal_basis", label("legal_basis", details.legal_basis)],
          ["detail.category", label("category", details.offence_category)],
          ["detail.urgency", label("urgency", details.urgency)],
          details.urgency === "urgent" && ["detail.urgency_reasons", personal(details.urgency_reasons)],
          ["detail.requested_date", date(details.requested_date)],
          ["detail.confidentiality", label("confidentiality", details.confidentiality)],
          ["detail.language", details.language || t("common.none")],
          ["detail.received_at", dateTime(request.received_at)],
          ["detail.routed_at", dateTime(request.routed_at)],
          ["detail.executed_at", dateTime(request.executed_at)],
          ["detail.closed_at", dateTime(request.closed_at)],
        ]),
      ),
      section(
        "detail.parties",
        facts([
          ["detail.domestic_reference", request.domestic_reference || t("common.none")],
          ["detail.requesting", `${requesting.name || t("common.none")} (${requesting.country || "?"})`],
          ["detail.foreign_reference", requesting.reference || t("common.none")],
          ["detail.contact", contact(requesting.contact)],
          ["detail.requested", requested.name ? `${requested.name} (${requested.country || "?"})` : t("common.none")],
        ]),
      ),
    ),
    section("detail.facts", el("p", { class: "prose" }, personal(details.summary_of_facts))),
    section(
      "detail.persons",
      personal(details.persons, (persons) =>
        table(
          ["detail.person.role", "detail.person.name", "detail.person.born", "detail.person.nationality"],
          persons.map((p) => [label("person", p.role), personal(p.name), p.date_of_birth ? date(p.date_of_birth) : t("common.none"), p.nationality || t("common.none")]),
          "detail.no_persons",
        ),
      ),
    ),
    section(
      "detail.offences",
      el("ul", {}, (details.offences || []).map((o) => el("li", {}, `${o.qualification} — ${label("category", o.category)}`))),
    ),
    section(
      "detail.measures",
      table(
        ["detail.measure.type", "detail.measure.place", "detail.measure.details"],
        (details.measures || []).map((m) => [label("measure", m.type), m.place, personal(m.details)]),
        "detail.no_assignments",
      ),
    ),
    section(
      "detail.assignments",
      table(
        ["detail.assignment.office", "detail.assignment.measures", "detail.assignment.rule", "detail.assignment.result"],
        (request.assignments || []).map((a) => [
          [el("strong", { text: a.office_name }), el("br"), el("code", { text: a.office_id })],
          a.measures.map(measureOf).join("; "),
          [a.rule, a.inferred ? [el("br"), el("span", { class: "badge warn", text: t("detail.assignment.inferred") })] : null],
          a.result ? `${a.result} (${dateTime(a.reported_at)})` : t("common.none"),
        ]),
        "detail.no_assignments",
      ),
      request.declined_offices?.length ? el("p", {}, `${t("detail.declined")}: ${request.declined_offices.join(", ")}`) : null,
    ),
    section(
      "detail.deadlines",
      table(
        ["detail.deadline.kind", "detail.deadline.due", "detail.deadline.basis", "detail.deadline.state"],
        (request.deadlines || []).map((d) => [
          label("deadline_kind", d.kind),
          el("time", { datetime: d.due, text: dateTime(d.due) }),
          [d.basis, el("br"), el("code", { text: d.rule_id }), d.confirmed ? null : [el("br"), el("span", { class: "muted", text: t("detail.deadline.unconfirmed") })]],
          el("span", { class: `badge deadline-${d.state}`, text: label("deadline", d.state) }),
        ]),
        "detail.no_deadlines",
      ),
    ),
    section(
      "detail.timeline",
      el(
        "ol",
        { class: "timeline" },
        timeline.map((entry) =>
          el(
            "li",
            { class: entry.type.endsWith("deadline_breached") ? "urgent-item" : "" },
            el("time", { datetime: entry.time, text: dateTime(entry.time) }),
            " ",
            el("strong", { text: eventLabel(entry.type) }),
            " ",
            el("span", { class: "muted", text: `${entry.source} · ${t("detail.timeline.position", { position: entry.position })}` }),
            " ",
            el("code", { class: "hash", title: entry.hash, text: entry.hash.slice(0, 12) }),
          ),
        ),
      ),
    ),
  );
}
