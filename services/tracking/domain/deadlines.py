"""The deadlines of a request, from policies kept as data (DOMAIN.md, "Time limits").

A rule guards one step (its `kind`), applies to the requests its `match` selects, starts at a
step, runs calendar days, business days or hours, and is met by any step in `satisfied_by`.
Defaults: `services/tracking/policies/deadlines.json`.

Precedence among matching rules of one kind: conditions compared in the order measures,
urgency, legal basis, channel, so urgency+measure > measure > urgency > legal basis > channel >
none. Equally specific rules of one kind that could both match are refused on loading. A kind
with a measure-conditioned rule gives one deadline per matching measure (`req:kind:index`).
An earlier requested date replaces the rule's date where the rule says `requested_date_governs`
(by default: execute, subscriber_data, traffic_data, the kinds that deliver the answer).
Day-based deadlines end with their last day in the policy's time zone; hour-based ones at the
exact moment. Pure: `now` is always a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from services.tracking.domain.calendar import BusinessCalendar
from services.tracking.domain.deadline_policy import (
    DeadlineFacts,
    DeadlineRule,
    Match,
    PolicyError,
    PolicySet,
    Step,
    Unit,
    default_policies,
    load_policies,
)
from shared.events.vocabulary import MeasureType

# The policy side is re-exported: one import gives a caller the whole of deadlines.
__all__ = [
    "Deadline",
    "DeadlineFacts",
    "DeadlineRule",
    "DeadlineState",
    "Match",
    "PolicyError",
    "PolicySet",
    "Step",
    "Threshold",
    "Unit",
    "deadlines_for",
    "default_policies",
    "load_policies",
    "state_of",
    "thresholds_crossed",
]

Threshold = Literal["approaching", "breached"]


class DeadlineState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"


@dataclass(frozen=True)
class Deadline:
    id: str
    request_id: str
    kind: str
    due: datetime
    due_soon_at: datetime
    basis: str
    rule_id: str
    confirmed: bool
    satisfied_at: datetime | None = None
    measure_index: int | None = None

    @property
    def satisfied(self) -> bool:
        return self.satisfied_at is not None


def deadlines_for(
    request_id: str,
    details: DeadlineFacts,
    *,
    received_at: datetime,
    routed_at: datetime | None = None,
    executed_at: datetime | None = None,
    closed_at: datetime | None = None,
    policies: PolicySet,
    calendar: BusinessCalendar,
) -> list[Deadline]:
    """The deadlines of a request, given when its steps happened (None: not yet). A deadline
    whose start has not happened is left out, unless a requested date already fixes it."""
    steps = dict(zip(Step, (received_at, routed_at, executed_at, closed_at), strict=True))
    for step, moment in steps.items():
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"{step}_at must be timezone-aware, got {moment.isoformat()}")
    deadlines: list[Deadline] = []
    measures: list[tuple[int | None, MeasureType | None]] = [
        (index, m.type) for index, m in enumerate(details.measures)
    ]
    for kind in policies.kinds():
        for index, measure in measures if policies.per_measure(kind) else [(None, None)]:
            rule = policies.rule_for(kind, details, measure)
            timing = rule and _timing(rule, details.requested_date, steps, policies, calendar)
            if rule is None or not timing:
                continue
            due, basis = timing
            deadline = Deadline(
                id=f"{request_id}:{kind}" + ("" if index is None else f":{index}"),
                request_id=request_id,
                kind=kind,
                due=due,
                due_soon_at=min(due - rule.due_soon, due),
                basis=basis,
                rule_id=rule.id,
                confirmed=rule.confirmed,
                satisfied_at=min((t for s in rule.satisfied_by if (t := steps[s])), default=None),
                measure_index=index,
            )
            deadlines.append(deadline)
    return deadlines


def state_of(deadline: Deadline, now: datetime) -> DeadlineState:
    """Where the deadline stands at `now`."""
    if deadline.satisfied_at is not None and deadline.satisfied_at <= now:
        return DeadlineState.MET
    if now > deadline.due:
        return DeadlineState.OVERDUE
    return DeadlineState.DUE_SOON if now >= deadline.due_soon_at else DeadlineState.ON_TRACK


def thresholds_crossed(deadline: Deadline, now: datetime) -> list[Threshold]:
    """The alerts the monitor must have emitted by `now`, in order; it records each
    (deadline id, threshold) so that each goes out once. Met late still counts as breached."""
    met = deadline.satisfied_at if state_of(deadline, now) is DeadlineState.MET else None
    approaching = met > deadline.due_soon_at if met else now >= deadline.due_soon_at
    breached = met > deadline.due if met else now > deadline.due
    crossed: list[Threshold] = ["approaching"] if approaching or breached else []
    return [*crossed, "breached"] if breached else crossed


def _timing(
    rule: DeadlineRule,
    requested: date | None,
    steps: Mapping[Step, datetime | None],
    policies: PolicySet,
    calendar: BusinessCalendar,
) -> tuple[datetime, str] | None:
    zone, start = policies.time_zone, steps[rule.start]
    governs = _end_of(requested, zone) if requested and rule.requested_date_governs else None
    head = f"rule {rule.id}: {rule.basis}; {rule.duration} {rule.unit.replace('_', ' ')}"
    head += f" from {_STEP_WORDS[rule.start]}"
    if start is None:
        text = f"{head} (not started yet); requested date {requested} governs"
        return (governs, text) if governs else None
    due, counted = _count(rule, start, zone, calendar)
    if governs is None:
        return due, f"{head} {counted}"
    if governs < due:
        return governs, f"{head} {counted}; requested date {requested} governs, being earlier"
    return due, f"{head} {counted}; requested date {requested} is later: the rule's date stands"


_STEP_WORDS = {
    "received": "receipt",
    "routed": "routing",
    "executed": "execution",
    "closed": "closure",
}


def _count(
    rule: DeadlineRule, start: datetime, zone: ZoneInfo, calendar: BusinessCalendar
) -> tuple[datetime, str]:
    local = start.astimezone(zone)
    if rule.unit is Unit.HOURS:  # exact hours, whatever a change of summer time does to clocks
        due = (start.astimezone(UTC) + timedelta(hours=rule.duration)).astimezone(zone)
        return due, f"at {local:%Y-%m-%d %H:%M %Z}, due {due:%Y-%m-%d %H:%M %Z}"
    first = local.date()
    if rule.unit is Unit.CALENDAR_DAYS:
        last = first + timedelta(days=rule.duration)
        return _end_of(last, zone), f"on {first}, due {last}"
    last = calendar.add_business_days(first, rule.duration)
    skipped = ", ".join(f"{name} {day}" for day, name in calendar.weekday_holidays(first, last))
    holidays = f", skipping {calendar.holidays_label}: {skipped}" if skipped else ""
    return _end_of(last, zone), f"on {first}, due {last} (business days{holidays})"


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone)


# The JSON form of a rule: field -> expected type; the optional ones with their default.
