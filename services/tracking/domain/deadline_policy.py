"""Deadline policies as data: the rules, their precedence, and loading them checked.

Each rule guards one step (its `kind`), applies to the requests its `match` selects, starts at
a step, runs calendar days, business days or hours, and is met by any step in `satisfied_by`.
Defaults: `services/tracking/policies/deadlines.json`. See `deadlines` for how they apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.events.vocabulary import Channel, LegalBasis, MeasureType, Urgency

E = TypeVar("E", bound=StrEnum)


class MeasureFacts(Protocol):
    @property
    def type(self) -> MeasureType: ...


class DeadlineFacts(Protocol):
    """What of a request its deadlines depend on (a `RequestDetails` has it all)."""

    @property
    def channel(self) -> Channel: ...
    @property
    def legal_basis(self) -> LegalBasis: ...
    @property
    def urgency(self) -> Urgency: ...
    @property
    def requested_date(self) -> date | None: ...
    @property
    def measures(self) -> Sequence[MeasureFacts]: ...


class Step(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"  # stands for the decision on recognition until one is recorded
    EXECUTED = "executed"
    CLOSED = "closed"


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    HOURS = "hours"


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

    def selects(self, details: DeadlineFacts, measure: MeasureType | None) -> bool:
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
    # The rule chosen for each combination of the facts a match looks at: tracking asks at
    # every event of every request, and the combinations are few.
    _chosen: dict[tuple[object, ...], DeadlineRule | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(rule.kind for rule in self.rules))

    def per_measure(self, kind: str) -> bool:
        return any(rule.match.measures for rule in self.rules if rule.kind == kind)

    def rule_for(
        self, kind: str, details: DeadlineFacts, measure: MeasureType | None = None
    ) -> DeadlineRule | None:
        """The rule of `kind` that governs this request (or this measure of it)."""
        facts = (kind, details.channel, details.legal_basis, measure, details.urgency)
        if facts not in self._chosen:
            matching = [
                r for r in self.rules if r.kind == kind and r.match.selects(details, measure)
            ]
            self._chosen[facts] = max(
                matching, key=lambda rule: rule.match.specificity, default=None
            )
        return self._chosen[facts]


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
