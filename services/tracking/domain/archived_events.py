"""Reading the events of the archive back, checked again or trusted.

`read_event(body)` checks an event as the consumer did (the CloudEvent envelope, then the
payload against the catalogue, upcasting old versions): for an export an auditor was handed,
which anyone could have written. `read_event(body, trusted=True)` is for the archive this
service wrote itself: every event in it passed those checks when it was consumed (the
projector archives only what `read_payload` accepted) and the hash chain proves it unchanged
since (`verify`). Checking it all again would only spend time. So the envelope is read
without a model, and of a payload the fold is given checked what it reads and the rest as
archived: the request details of `mla.request.received` (the largest, costliest model, of
which the fold reads a few fields and copies the JSON) and the rule trace of
`mla.request.routed` are not checked again; the other payloads, small, are. The details'
JSON is the archived document with what the canonical form left out put back (`complete`),
exactly what the checked model serialises to. Whatever the trusted path does not recognise
(an older schema version, a malformed body) is read the checked way, which names the fault.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.events.catalogue import (
    CATALOGUE,
    Assignment,
    Payload,
    RequestReceived,
    RequestRouted,
    read_payload,
)
from shared.events.envelope import CloudEvent, EnvelopeError, describe_errors
from shared.personal_data import SealedValue, is_sealed
from shared.request.model import RequestDetails


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """The attributes of an archived event that replays and timelines need; `payload()`
    reads the rest."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    raw: CloudEvent | dict[str, Any]  # checked, or the trusted JSON document

    def payload(self) -> Payload:
        """The typed payload, or `EnvelopeError` saying why it cannot be read."""
        event = self.raw
        if isinstance(event, dict):
            try:
                return _trusted_payload(event, self.subject)
            except (KeyError, TypeError, ValueError, ValidationError):
                pass  # read it the checked way, which names the fault
            try:
                event = CloudEvent.model_validate(event)
            except ValidationError as exc:
                raise EnvelopeError(f"not a valid CloudEvent: {describe_errors(exc)}") from exc
        return read_payload(event)


def read_event(body: bytes, *, trusted: bool = False) -> ArchivedEvent:
    """The event of an archived body (see the module docstring for `trusted`), or
    `EnvelopeError` when it is not a CloudEvent."""
    if trusted:
        try:
            document = orjson.loads(body)
            time = datetime.fromisoformat(document["time"])
            return ArchivedEvent(
                document["id"], document["source"], document["type"], document["subject"],
                time, document,
            )  # fmt: skip
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            pass  # read it the checked way, which names the fault
    event = CloudEvent.from_bytes(body)
    return ArchivedEvent(event.id, event.source, event.type, event.subject, event.time, event)


def _trusted_payload(document: dict[str, Any], subject: str) -> Payload:
    current, model = CATALOGUE[document["type"]]
    if document.get("schemaversion", 1) != current:
        raise ValueError("an older schema version is upcast the checked way")
    data = document["data"]
    payload: Payload
    if model is RequestReceived:
        details = ArchivedDetails(complete(RequestDetails, data["details"]))
        received_at = datetime.fromisoformat(data["received_at"])
        payload = _construct(model, data, received_at=received_at, details=details)
    elif model is RequestRouted:  # the trace, most of the event, is not read by the fold
        payload = _construct(
            model, data, assignments=_ASSIGNMENTS.validate_python(data["assignments"])
        )
    else:
        payload = model.model_validate(data)
    if payload.request_id != subject:
        raise ValueError("subject and data.request_id differ")
    return payload


_ASSIGNMENTS = TypeAdapter(list[Assignment])


@dataclass(frozen=True, slots=True)
class _Authority:
    name: str
    country: str
    reference: str | None


class ArchivedDetails:
    """The request details of an archived `mla.request.received`, as the fold reads them:
    the fields `project` copies into the view, and `model_dump(mode="json")`, the archived
    document (completed). Any other use fails loudly (AttributeError)."""

    __slots__ = ("_document", "channel", "direction", "offence_category", "requesting_authority",
                 "urgency")  # fmt: skip

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self.direction = document["direction"]
        self.channel = document["channel"]
        self.offence_category = document["offence_category"]
        self.urgency = document["urgency"]
        authority = document["requesting_authority"]
        self.requesting_authority = _Authority(
            authority["name"], authority["country"], authority.get("reference")
        )

    def model_dump(self, *, mode: str) -> dict[str, Any]:
        if mode != "json":
            raise TypeError("archived request details exist only in their JSON form")
        return self._document


def complete(model: type[BaseModel], document: dict[str, Any]) -> dict[str, Any]:
    """`document`, the canonical form of `model.model_dump(mode="json")`, made equal to that
    dump again: the canonical form leaves out members whose value is null, so each missing
    field gets back its value, the default (null for the optional ones). In place."""
    plan = _plan(model)
    if not plan.required <= document.keys():
        raise KeyError(f"{model.__name__} lacks {sorted(plan.required - document.keys())}")
    for name, value in plan.constants:
        document.setdefault(name, value)
    for name, make in plan.factories:
        if name not in document:
            document[name] = make()
    for name, nested, many in plan.nested:
        # A sealed personal field is archived whole: it has no member left out to put back.
        if (value := document[name]) is not None and not is_sealed(value):
            for item in value if many else (value,):
                complete(nested, item)
    return document


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to complete one model's document."""

    required: frozenset[str]
    constants: tuple[tuple[str, Any], ...]  # immutable JSON defaults (mostly null)
    factories: tuple[tuple[str, Callable[[], Any]], ...]  # a fresh `[]` each time
    nested: tuple[tuple[str, type[BaseModel], bool], ...]  # model held, and as a list?


@cache
def _plan(model: type[BaseModel]) -> _Plan:
    if model.model_computed_fields:
        raise TypeError(f"{model.__name__} has computed fields: its dump is not its document")
    required, constants, factories, nested = set(), [], [], []
    for name, field in model.model_fields.items():
        if field.exclude or (field.serialization_alias or name) != name:
            raise TypeError(f"{model.__name__}.{name} is dumped under another name or not at all")
        held, many = _nested(field.annotation)
        if held is not None:
            nested.append((name, held, many))
        if field.is_required():
            required.add(name)
            continue
        default = orjson.loads(orjson.dumps(field.get_default(call_default_factory=True)))
        if isinstance(default, list | dict):
            factories.append((name, _json_factory(field.get_default)))
        else:
            constants.append((name, default))
    return _Plan(frozenset(required), tuple(constants), tuple(factories), tuple(nested))


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (one, optional, or a list of them), if any."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _nested(arguments[0])
    if origin in (typing.Union, types.UnionType):
        # A personal field holds its model in the clear, or that model sealed.
        inner = [a for a in arguments if a not in (type(None), SealedValue)]
        return _nested(inner[0]) if len(inner) == 1 else (None, False)
    if origin is list:
        return _nested(arguments[0])[0], True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _json_factory(get: Callable[..., Any]) -> Callable[[], Any]:
    return lambda: orjson.loads(orjson.dumps(get(call_default_factory=True)))


def _construct(model: type[Payload], data: dict[str, Any], **checked: Any) -> Any:
    """A payload holding `data` as archived, defaults where it has nothing, and the `checked`
    values: what `model_construct` makes, without its per-call overhead."""
    values = {**_defaults(model), **data, **checked}
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(data))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


@cache
def _defaults(model: type[Payload]) -> dict[str, Any]:
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if not field.is_required()
    }
