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

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.tracking.domain.calendar import BusinessCalendar
from shared.events.vocabulary import Channel, LegalBasis, MeasureType, Urgency
from shared.request.model import RequestDetails

E = TypeVar("E", bound=StrEnum)
Threshold = Literal["approaching", "breached"]


class Step(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"  # stands for the decision on recognition until one is recorded
    EXECUTED = "executed"
    CLOSED = "closed"


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    HOURS = "hours"


class DeadlineState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"


class PolicyError(ValueError):
    """Policy data that cannot be used, naming the rule and the field to correct."""

    def __init__(self, rule_id: str | None, field: str, problem: str) -> None:
        where = f"deadline rule {rule_id!r}" if rule_id else "deadline policies"
        super().__init__(f"{where}, field {field!r}: {problem}")
        self.rule_id, self.field = rule_id, field


@dataclass(frozen=True)
class Match:
    """The requests a rule applies to; an empty condition accepts any value."""

    channel: frozenset[Channel] = frozenset()
    legal_basis: frozenset[LegalBasis] = frozenset()
    measures: frozenset[MeasureType] = frozenset()
    urgency: frozenset[Urgency] = frozenset()

    @property
    def specificity(self) -> tuple[bool, bool, bool, bool]:
        return bool(self.measures), bool(self.urgency), bool(self.legal_basis), bool(self.channel)

    def selects(self, details: RequestDetails, measure: MeasureType | None) -> bool:
        values = (details.channel, details.legal_basis, measure, details.urgency)
        return all(
            not allowed or v in allowed for allowed, v in zip(self._sets, values, strict=True)
        )

    def overlaps(self, other: Match) -> bool:
        pairs = zip(self._sets, other._sets, strict=True)
        return all(not a or not b or bool(a & b) for a, b in pairs)

    @property
    def _sets(self) -> tuple[frozenset[Any], ...]:
        return self.channel, self.legal_basis, self.measures, self.urgency


@dataclass(frozen=True)
class DeadlineRule:
    id: str
    kind: str
    match: Match
    start: Step
    duration: int
    unit: Unit
    satisfied_by: tuple[Step, ...]
    basis: str
    confirmed: bool
    due_soon: timedelta  # how long before it is due a deadline turns due soon
    requested_date_governs: bool = False
    note: str | None = None


@dataclass(frozen=True)
class PolicySet:
    rules: tuple[DeadlineRule, ...]
    time_zone: ZoneInfo

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(rule.kind for rule in self.rules))

    def per_measure(self, kind: str) -> bool:
        return any(rule.match.measures for rule in self.rules if rule.kind == kind)

    def rule_for(
        self, kind: str, details: RequestDetails, measure: MeasureType | None = None
    ) -> DeadlineRule | None:
        """The rule of `kind` that governs this request (or this measure of it)."""
        matching = [r for r in self.rules if r.kind == kind and r.match.selects(details, measure)]
        return max(matching, key=lambda rule: rule.match.specificity, default=None)


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


def load_policies(data: Mapping[str, Any]) -> PolicySet:
    """Policies from their JSON form, checked: a PolicyError names the rule and field at fault."""
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError(None, "rules", "give a non-empty list of rules")
    parsed = tuple(_rule(raw, f"#{position + 1}") for position, raw in enumerate(rules))
    _check_unambiguous(parsed)
    try:
        zone = ZoneInfo(str(data.get("time_zone", "Europe/Belgrade")))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise PolicyError(None, "time_zone", f"unknown time zone ({error})") from None
    return PolicySet(parsed, zone)


@cache
def default_policies() -> PolicySet:
    """The packaged defaults (`services/tracking/policies/deadlines.json`), read on first use."""
    package = resources.files("services.tracking.policies")
    return load_policies(json.loads(package.joinpath("deadlines.json").read_text("utf-8")))


def deadlines_for(
    request_id: str,
    details: RequestDetails,
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
_FIELDS: dict[str, type] = {"id": str, "kind": str, "match": dict, "start": str, "duration": int,
    "unit": str, "satisfied_by": list, "basis": str, "confirmed": bool, "due_soon": dict,
    "requested_date_governs": bool, "note": str}  # fmt: skip
_OPTIONAL: dict[str, Any] = {"match": {}, "requested_date_governs": False, "note": None}
_CONDITIONS: dict[str, type[StrEnum]] = {
    "channel": Channel, "legal_basis": LegalBasis, "measures": MeasureType, "urgency": Urgency
}  # fmt: skip


def _rule(raw: object, position: str) -> DeadlineRule:
    if not isinstance(raw, Mapping):
        raise PolicyError(position, "(rule)", "a rule must be a JSON object")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise PolicyError(position, "id", "give every rule a non-empty text id")
    if unknown := sorted(raw.keys() - _FIELDS.keys()):
        raise PolicyError(rule_id, unknown[0], f"unknown field (known: {', '.join(_FIELDS)})")
    fields = {name: _field(rule_id, raw, name, kind) for name, kind in _FIELDS.items()}
    if fields["duration"] <= 0:
        raise PolicyError(rule_id, "duration", f"must be above 0, got {fields['duration']}")
    satisfied_by = tuple(_enum(rule_id, "satisfied_by", Step, s) for s in fields["satisfied_by"])
    return DeadlineRule(
        **{
            **fields,
            "match": _match(rule_id, fields["match"]),
            "start": _enum(rule_id, "start", Step, fields["start"]),
            "unit": _enum(rule_id, "unit", Unit, fields["unit"]),
            "satisfied_by": satisfied_by,
            "due_soon": _due_soon(rule_id, fields["due_soon"]),
        }
    )


def _field(rule_id: str, raw: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in raw:
        if name in _OPTIONAL:
            return _OPTIONAL[name]
        raise PolicyError(rule_id, name, "is missing")
    value = raw[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PolicyError(rule_id, name, f"expected {kind.__name__}, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise PolicyError(rule_id, name, "must not be empty")
    return value


def _match(rule_id: str, raw: Mapping[str, Any]) -> Match:
    conditions: dict[str, Any] = {}
    for key, values in raw.items():
        field = f"match.{key}"
        if key not in _CONDITIONS:
            raise PolicyError(
                rule_id, field, f"unknown condition (known: {', '.join(_CONDITIONS)})"
            )
        if not isinstance(values, list):
            raise PolicyError(rule_id, field, f"expected a list ([] for any), got {values!r}")
        conditions[key] = frozenset(_enum(rule_id, field, _CONDITIONS[key], v) for v in values)
    return Match(**conditions)


def _enum(rule_id: str, field: str, kind: type[E], value: Any) -> E:
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise PolicyError(rule_id, field, f"{value!r} is not one of {', '.join(kind)}") from None


def _due_soon(rule_id: str, raw: Mapping[str, Any]) -> timedelta:
    if len(raw) != 1 or not raw.keys() <= {"days", "hours"}:
        raise PolicyError(rule_id, "due_soon", 'give either days or hours, e.g. {"days": 3}')
    ((unit, amount),) = raw.items()
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PolicyError(
            rule_id, f"due_soon.{unit}", f"expected a whole number above 0, got {amount!r}"
        )
    return timedelta(**{unit: amount})


def _check_unambiguous(rules: tuple[DeadlineRule, ...]) -> None:
    seen: dict[str, DeadlineRule] = {}
    for rule in rules:
        if rule.id in seen:
            raise PolicyError(rule.id, "id", "another rule has the same id")
        for other in seen.values():
            rank = other.match.specificity == rule.match.specificity
            if other.kind == rule.kind and rank and other.match.overlaps(rule.match):
                problem = (
                    f"as specific as rule {other.id!r} of kind {rule.kind!r} and overlapping it"
                )
                raise PolicyError(rule.id, "match", f"{problem}: narrow one of them")
        seen[rule.id] = rule
