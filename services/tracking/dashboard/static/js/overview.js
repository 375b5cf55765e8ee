// The overview: what waits and what is late, the charts, the audit chain, and the events
// as they arrive. Figures come from GET /v1/overview and GET /v1/stats.

import { get } from "./api.js";
import { columns, horizontalBars } from "./charts.js";
import { byId, el, fill } from "./dom.js";
import { t } from "./i18n.js";
import { dateTime, eventLabel, hours, label, number, shortDate } from "./format.js";
import { roles } from "./session.js";

const STATUSES = ["received", "routing_failed", "routed", "executed", "closed"];
const STAGES = ["received_to_routed", "routed_to_executed", "executed_to_closed", "received_to_closed"];
const WEEKS_SHOWN = 26;
const ACTIVITY_KEPT = 50;
const OVERDUE_SHOWN = 12;

// Requests known to be overdue: from the overview, and from live events since.
export const overdueRequests = new Set();
let latest = null;
const activity = [];

export async function refreshOverview() {
  const [overview, stats] = await Promise.all([get("/v1/overview"), get("/v1/stats")]);
  latest = { overview, stats };
  overdueRequests.clear();
  for (const request of overview.overdue_requests) overdueRequests.add(request.request_id);
  renderOverview();
}

export function renderOverview() {
  if (!latest) return;
  const { overview, stats } = latest;
  byId("overview-as-of").textContent = t("overview.as_of", { time: dateTime(overview.as_of) });
  renderCards(overview, stats);
  renderOverdue(overview);
  renderAudit(overview.archive);
  renderCharts(overview, stats);
  renderActivity();
}

function card(title, value, href, className = "") {
  return el(
    "li",
    { class: `card ${className}` },
    el("a", { href }, el("span", { class: "card-value", text: number(value) }), el("span", { class: "card-title", text: title })),
  );
}

function renderCards(overview, stats) {
  const list = el(
    "ul",
    { class: "plain card-list" },
    card(t("overview.total"), stats.total, "#/requests"),
    card(t("overview.waiting"), overview.waiting_for_routing, "#/requests?status=received&status=routing_failed", overview.routing_failed ? "warn" : ""),
    card(t("overview.due_soon"), overview.due_soon, "#/requests?due_soon=true", overview.due_soon ? "warn" : ""),
    card(t("overview.overdue"), overview.overdue, "#/requests?overdue=true", overview.overdue ? "urgent" : ""),
  );
  fill(byId("overview-cards"), list);
}

function renderOverdue(overview) {
  const list = byId("overdue-list");
  if (!overview.overdue_requests.length) {
    fill(list, el("li", { class: "muted", text: t("overview.none_overdue") }));
    return;
  }
  fill(
    list,
    overview.overdue_requests.slice(0, OVERDUE_SHOWN).map((request) =>
      el(
        "li",
        { class: "urgent-item" },
        el("span", { class: "badge urgent", text: t("badge.overdue") }),
        " ",
        el("a", { href: `#/requests/${encodeURIComponent(request.request_id)}`, text: request.domestic_reference || request.request_id }),
        " ",
        el("span", { class: "muted", text: t("overview.due", { time: dateTime(request.due) }) }),
      ),
    ),
    overview.overdue > OVERDUE_SHOWN ? el("li", {}, el("a", { href: "#/requests?overdue=true", text: t("overview.open_list") })) : null,
  );
}

function renderAudit(archive) {
  const checkpoint = archive.last_checkpoint;
  const facts = el(
    "dl",
    { class: "facts" },
    el("dt", { text: t("audit.head") }),
    el("dd", { text: number(archive.head_position) }),
    el("dt", { text: t("audit.checkpoint") }),
    el(
      "dd",
      {},
      checkpoint
        ? [
            t("audit.position", { position: number(checkpoint.position), time: dateTime(checkpoint.signed_at) }),
            el("br"),
            el("span", {
              class: checkpoint.verified ? "ok" : "urgent-text",
              text: checkpoint.verified ? `✓ ${t("audit.verified")}` : `✗ ${t("audit.not_verified")}`,
            }),
          ]
        : t("audit.no_checkpoint"),
    ),
  );
  fill(byId("audit-state"), facts);
  // The whole walk is an auditor's (or administrator's) action; the service enforces it.
  byId("audit-verify").hidden = !roles().some((role) => role === "auditor" || role === "admin");
}

export async function verifyChain() {
  const result = byId("audit-result");
  result.textContent = t("audit.verifying");
  try {
    const verification = await get("/v1/audit/verify");
    result.className = verification.ok ? "ok" : "urgent-text";
    result.textContent = verification.ok
      ? t("audit.ok", { entries: number(verification.entries_checked), checkpoints: number(verification.checkpoints_checked) })
      : t("audit.broken", { position: verification.first_problem.position, kind: verification.first_problem.kind });
  } catch (error) {
    result.className = "urgent-text";
    result.textContent = t("common.error", { status: error.status || "—" });
  }
}

function renderCharts(overview, stats) {
  const statusRows = STATUSES.map((status) => ({
    label: label("status", status),
    value: stats.by_status[status] || 0,
    text: number(stats.by_status[status] || 0),
    className: `status-${status}`,
  }));
  fill(byId("chart-status"), horizontalBars(statusRows, { summary: t("overview.by_status"), empty: "" }));

  const workloadRows = overview.workload.map((office) => ({
    label: office.office,
    value: office.in_execution,
    part: office.overdue,
    text: office.overdue
      ? `${number(office.in_execution)} (${t("badge.overdue").toLowerCase()} ${number(office.overdue)})`
      : number(office.in_execution),
  }));
  fill(byId("chart-workload"), horizontalBars(workloadRows, { summary: t("overview.workload"), empty: t("overview.no_workload") }));

  const weeks = [...stats.intake_per_week].sort((a, b) => a.week.localeCompare(b.week)).slice(-WEEKS_SHOWN);
  const weekColumns = weeks.map((week) => ({ label: shortDate(week.week), value: week.received, text: number(week.received) }));
  fill(byId("chart-intake"), columns(weekColumns, { summary: t("overview.intake"), empty: t("overview.no_intake") }));

  const stageRows = STAGES.filter((stage) => stats.stage_hours[stage]?.count).map((stage) => {
    const figures = stats.stage_hours[stage];
    return {
      label: label("stage", stage),
      value: figures.median,
      marker: figures.p90,
      text: hours(figures.median),
      note: t("overview.p90", { value: hours(figures.p90) }),
      className: "stage",
    };
  });
  // One scale for the medians and the 90th-percentile ticks.
  const scale = Math.max(0, ...stageRows.map((row) => row.marker || 0));
  fill(byId("chart-stages"), horizontalBars(stageRows, { summary: t("overview.stages"), empty: t("overview.no_stages"), scale }));
}

// One more event for the activity list (newest first).
export function recordActivity(event) {
  activity.unshift(event);
  activity.length = Math.min(activity.length, ACTIVITY_KEPT);
  renderActivity();
}

function renderActivity() {
  byId("activity-empty").hidden = activity.length > 0;
  fill(
    byId("activity"),
    activity.map((event) => {
      const urgent = event.type.endsWith("deadline_breached") || (event.overdue && event.status !== "closed");
      return el(
        "li",
        { class: urgent ? "urgent-item" : "" },
        el("time", { datetime: event.time, text: dateTime(event.time) }),
        " ",
        el("span", { class: "event-type", text: eventLabel(event.type) }),
        " ",
        el("a", { href: `#/requests/${encodeURIComponent(event.request_id)}`, text: event.domestic_reference || event.request_id }),
        event.status ? el("span", { class: `badge status-${event.status}`, text: label("status", event.status) }) : null,
        urgent ? el("span", { class: "badge urgent", text: t("badge.overdue") }) : null,
      );
    }),
  );
}
