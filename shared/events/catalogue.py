"""The event catalogue: every event type of the lifecycle, its payload and schema version.

A payload model is the contract of one `type` at one `schemaversion`. Old versions are
upcast on read (`UPCASTERS`), never rewritten where they are stored. Producers build events
with `new_event`; consumers read them with `read_payload`, which raises `UnknownEventError`
or `PayloadError` for a message that cannot be processed (it goes to the dead-letter topic).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events.envelope import CloudEvent, EnvelopeError, describe_errors
from shared.events.vocabulary import ErasureGround, ExecutionResult, Outcome
from shared.request.model import RequestDetails


class UnknownEventError(EnvelopeError):
    """An event type or schema version that is not in the catalogue."""


class PayloadError(EnvelopeError):
    """An event whose `data` does not match the payload schema of its type."""


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str


class RequestReceived(Payload):
    """intake took a request in and gave it a domestic reference number.

    The personal fields of `details` (persons, summary of facts, urgency reasons, measures'
    details, authorities' contacts) are sealed under the request's own data key
    (`SealedValue`, AES-256-GCM); `mla.request.personal_data_erased` says the key is gone.
    Events received before sealing carry them in the clear, which readers still accept.
    """

    domestic_reference: str
    received_at: datetime
    details: RequestDetails
    # The identifier of the requesting authority that submitted it (its token's `authority`
    # claim; not a person): every service enforces that authority's ownership from its own
    # copy. None when the department submitted it (a request received on paper), and in
    # events from before it existed, which stay version 1.
    authority: str | None = Field(default=None, max_length=100)


class RuleStep(BaseModel):
    """One rule the routing engine tried, whether it matched and why."""

    model_config = ConfigDict(frozen=True)

    rule: str
    matched: bool
    reason: str


class MeasureRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    type: str
    place: str


class Assignment(BaseModel):
    """The part of a request one executing office must carry out."""

    model_config = ConfigDict(frozen=True)

    assignment_id: str
    office_id: str
    office_name: str
    measures: list[MeasureRef]
    rule: str
    basis: str
    inferred: bool = Field(
        default=False, description="Rests on an inferred mapping: an operator should confirm."
    )


class RequestRouted(Payload):
    """routing placed the request with one or more offices (first time or again)."""

    assignments: list[Assignment]
    directory_version: int
    trace: list[RuleStep]
    mode: Literal["automatic", "manual"] = "automatic"
    rerouted: bool = False
    reason: str | None = None
    operator: str | None = None


class RoutingFailed(Payload):
    """No rule could place the request: it waits for an operator."""

    reason: str
    directory_version: int
    trace: list[RuleStep]


class AssignmentDeclined(Payload):
    """An executing office declared itself not competent; the request is re-routed and the
    requester must be told (the national law requires notice of a forwarded request)."""

    assignment_id: str
    office_id: str
    reason: str


class RequestExecuted(Payload):
    """One assignment reported its execution; `outstanding` counts those still to report."""

    assignment_id: str
    office_id: str
    result: ExecutionResult
    details: str | None = None
    outstanding: int = Field(ge=0)


class RequestWithdrawn(Payload):
    """The requester withdrew the request before it was closed."""

    reason: str | None = None


class RequestClosed(Payload):
    """The answer went back: the request is closed with an outcome."""

    outcome: Outcome
    grounds: str | None = None
    answer_summary: str | None = None


class PersonalDataErased(Payload):
    """The request's data key was destroyed: its sealed personal data is unreadable
    everywhere from now on; the rest of its record stays as it was."""

    erased_at: datetime
    erased_by: str = Field(min_length=1, max_length=200, description="Who ordered it.")
    legal_ground: ErasureGround
    case_reference: str | None = Field(
        None, max_length=100, description="The data-protection case it was decided in."
    )


class DeadlineAlert(Payload):
    """A deadline of a request is near or passed (emitted once per deadline and threshold)."""

    deadline_id: str
    kind: str
    due: date
    basis: str


class DeadlineApproaching(DeadlineAlert):
    """A deadline is due soon."""


class DeadlineBreached(DeadlineAlert):
    """A deadline has passed without the step it guards."""


RECEIVED = "mla.request.received"
ROUTED = "mla.request.routed"
ROUTING_FAILED = "mla.request.routing_failed"
ASSIGNMENT_DECLINED = "mla.request.assignment_declined"
EXECUTED = "mla.request.executed"
WITHDRAWN = "mla.request.withdrawn"
CLOSED = "mla.request.closed"
DEADLINE_APPROACHING = "mla.request.deadline_approaching"
DEADLINE_BREACHED = "mla.request.deadline_breached"
PERSONAL_DATA_ERASED = "mla.request.personal_data_erased"

# type -> the current schema version and its payload model.
CATALOGUE: dict[str, tuple[int, type[Payload]]] = {
    RECEIVED: (1, RequestReceived),
    ROUTED: (1, RequestRouted),
    ROUTING_FAILED: (1, RoutingFailed),
    ASSIGNMENT_DECLINED: (1, AssignmentDeclined),
    EXECUTED: (1, RequestExecuted),
    WITHDRAWN: (1, RequestWithdrawn),
    CLOSED: (1, RequestClosed),
    DEADLINE_APPROACHING: (1, DeadlineApproaching),
    DEADLINE_BREACHED: (1, DeadlineBreached),
    PERSONAL_DATA_ERASED: (1, PersonalDataErased),
}

# (type, from_version) -> a function turning that version's data into the next version's.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def new_event(
    payload: Payload,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
) -> CloudEvent:
    """Wrap a payload in an envelope of its catalogued type and current schema version
    (with a fresh id, or `event_id`: see `CloudEvent.create`)."""
    event_type = type_of(payload)
    version, _ = CATALOGUE[event_type]
    return CloudEvent.create(
        event_id=event_id,
        source=source,
        type=event_type,
        subject=payload.request_id,
        schemaversion=version,
        correlationid=correlation_id,
        causationid=causation_id,
        data=payload.model_dump(mode="json"),
    )


def type_of(payload: Payload) -> str:
    """The catalogued type of a payload instance."""
    for event_type, (_, model) in CATALOGUE.items():
        if type(payload) is model:
            return event_type
    raise UnknownEventError(f"{type(payload).__name__} is not in the event catalogue")


def payload_kind(event_type: str) -> type[Payload]:
    """The payload model of a catalogued event type (UnknownEventError for another)."""
    if event_type not in CATALOGUE:
        raise UnknownEventError(f"unknown event type {event_type!r}")
    return CATALOGUE[event_type][1]


def read_payload(event: CloudEvent) -> Payload:
    """The typed payload of an event, upcast to the current version of its type."""
    model = payload_kind(event.type)
    current, _ = CATALOGUE[event.type]
    if event.schemaversion > current:
        raise UnknownEventError(
            f"{event.type} schema version {event.schemaversion} is newer than this reader's "
            f"{current}"
        )
    data = dict(event.data)
    for version in range(event.schemaversion, current):
        upcast = UPCASTERS.get((event.type, version))
        if upcast is None:
            raise UnknownEventError(f"no upcaster for {event.type} from version {version}")
        data = upcast(data)
    try:
        payload = model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(f"{event.type} v{current}: {describe_errors(exc)}") from exc
    if payload.request_id != event.subject:
        raise PayloadError(f"subject {event.subject!r} differs from data.request_id")
    return payload
