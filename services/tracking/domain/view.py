"""The read model of one request: a left fold of its events.

`project(view, event)` is the only way a view changes, so the live read model and a replay
of the events agree by construction (and a property test checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson

from shared.events.catalogue import (
    AssignmentDeclined,
    Payload,
    PersonalDataErased,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
)


@dataclass(frozen=True)
class AssignmentView:
    assignment_id: str
    office_id: str
    office_name: str
    measures: tuple[str, ...]  # "type @ place"
    rule: str
    inferred: bool
    result: str | None = None
    reported_at: datetime | None = None


@dataclass(frozen=True)
class RequestView:
    request_id: str
    status: str = "received"
    domestic_reference: str | None = None
    direction: str | None = None
    channel: str | None = None
    country: str | None = None
    requesting_authority: str | None = None
    # The identifier of the authority that submitted it (None: the department): whose it is.
    authority: str | None = None
    foreign_reference: str | None = None
    offence_category: str | None = None
    urgency: str | None = None
    received_at: datetime | None = None
    routed_at: datetime | None = None
    executed_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    routing_failure: str | None = None
    assignments: tuple[AssignmentView, ...] = ()
    declined_offices: tuple[str, ...] = ()
    updated_at: datetime | None = None
    # The request as received (for the detail page and the deadlines), its personal fields
    # sealed as the event carried them: only the API opens them, with the vault's key.
    details: dict[str, Any] | None = None
    # When the request's data key was destroyed (its sealed fields are unreadable since).
    personal_data_erased_at: datetime | None = None
    event_count: int = 0
    offices: tuple[str, ...] = field(default=())


def project(view: RequestView | None, payload: Payload, at: datetime) -> RequestView:
    """The view after one more event (`at`: the event's time)."""
    current = view or RequestView(request_id=payload.request_id)
    # What the event changes, gathered first and applied in one copy: a replay folds a
    # million events, and each copy of a view costs as much as the rest of the fold.
    changes = _changes(current, payload, at)
    if "assignments" in changes:
        changes["offices"] = tuple(sorted({a.office_id for a in changes["assignments"]}))
    changes["updated_at"] = at
    changes["event_count"] = current.event_count + 1
    return _evolve(current, **changes)


def fold(events: Iterable[tuple[Payload, datetime]]) -> RequestView | None:
    """The view of a request from its whole history, oldest first."""
    view: RequestView | None = None
    for payload, at in events:
        view = project(view, payload, at)
    return view


def _changes(view: RequestView, payload: Payload, at: datetime) -> dict[str, Any]:
    match payload:
        case RequestReceived(details=details):
            return {
                "domestic_reference": payload.domestic_reference,
                "direction": details.direction,
                "channel": details.channel,
                "country": details.requesting_authority.country,
                "requesting_authority": details.requesting_authority.name,
                "authority": payload.authority,
                "foreign_reference": details.requesting_authority.reference,
                "offence_category": details.offence_category,
                "urgency": details.urgency,
                "received_at": payload.received_at,
                "details": details.model_dump(mode="json"),
                "status": "received" if view.status == "received" else view.status,
            }
        case RequestRouted():
            previous = {a.assignment_id: a for a in view.assignments}
            assignments = tuple(
                previous.get(a.assignment_id)
                or AssignmentView(
                    assignment_id=a.assignment_id,
                    office_id=a.office_id,
                    office_name=a.office_name,
                    measures=tuple(f"{m.type} @ {m.place}" for m in a.measures),
                    rule=a.rule,
                    inferred=a.inferred,
                )
                for a in payload.assignments
            )
            changes = {"assignments": assignments, "routed_at": at, "routing_failure": None}
            return _after_assignments(view, changes, at)
        case RoutingFailed():
            if view.status == "closed":
                return {}
            return {"status": "routing_failed", "routing_failure": payload.reason}
        case AssignmentDeclined():
            return {
                "assignments": tuple(
                    a for a in view.assignments if a.assignment_id != payload.assignment_id
                ),
                "declined_offices": (*view.declined_offices, payload.office_id),
            }
        case RequestExecuted():
            assignments = tuple(
                _evolve(a, result=payload.result, reported_at=at)
                if a.assignment_id == payload.assignment_id
                else a
                for a in view.assignments
            )
            return _after_assignments(view, {"assignments": assignments}, at)
        case RequestClosed():
            return {"status": "closed", "outcome": payload.outcome, "closed_at": at}
        case RequestWithdrawn():
            return {}  # the closure that follows it closes the view
        case PersonalDataErased():
            return {"personal_data_erased_at": payload.erased_at}
    return {}


_View = TypeVar("_View", RequestView, AssignmentView)


def _evolve(view: _View, **changes: Any) -> _View:
    """`dataclasses.replace` without running `__init__` again (the views check nothing on
    construction): the fold's hot path, where `replace` cost more than everything else."""
    copy = object.__new__(type(view))
    copy.__dict__.update(view.__dict__, **changes)
    if len(copy.__dict__) != len(view.__dict__):  # a name that is not a field was added
        unknown = sorted(changes.keys() - view.__dict__.keys())
        raise TypeError(f"{type(view).__name__} has no field {unknown}")
    return copy


def _all_reported(assignments: tuple[AssignmentView, ...]) -> bool:
    return bool(assignments) and all(a.result is not None for a in assignments)


def _after_assignments(view: RequestView, changes: dict[str, Any], at: datetime) -> dict[str, Any]:
    """`changes` to the assignments, with the status they lead to."""
    if view.status == "closed":
        return changes
    if changes.get("routing_failure", view.routing_failure) is not None:
        return changes  # a measure waits for an operator, whatever the offices report meanwhile
    if _all_reported(changes["assignments"]):
        return changes | {"status": "executed", "executed_at": view.executed_at or at}
    return changes | {"status": "routed", "executed_at": None}


def to_document(view: RequestView) -> dict[str, Any]:
    """The view as JSON-ready data (datetimes as ISO 8601)."""
    # orjson writes dataclasses, tuples and datetimes as `asdict` and `isoformat` would, 50x
    # faster than `asdict`, which deep-copies the request details on every event.
    document: dict[str, Any] = orjson.loads(orjson.dumps(view))
    return document


def from_document(document: Mapping[str, Any]) -> RequestView:
    """The inverse of `to_document`."""
    data: dict[str, Any] = dict(document)
    for key in _TIMES:
        data[key] = _time(data.get(key))
    data["assignments"] = tuple(
        AssignmentView(
            **{**a, "measures": tuple(a["measures"]), "reported_at": _time(a.get("reported_at"))}
        )
        for a in data.get("assignments", ())
    )
    for key in ("declined_offices", "offices"):
        data[key] = tuple(data.get(key, ()))
    return RequestView(**data)


_TIMES = (
    "received_at",
    "routed_at",
    "executed_at",
    "closed_at",
    "updated_at",
    "personal_data_erased_at",
)


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
