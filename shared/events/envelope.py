"""The CloudEvents 1.0 envelope, structured JSON mode.

Every event on the lifecycle topic is one JSON document (`application/cloudevents+json`)
carrying the context attributes and the payload under `data`. `source` + `id` is the
deduplication key every consumer records.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTENT_TYPE = "application/cloudevents+json"


class EnvelopeError(ValueError):
    """Bytes that are not a CloudEvent this system understands (a poison message)."""


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event with this system's extensions."""

    model_config = ConfigDict(frozen=True, extra="allow")

    # Both required on the wire: an event without its own id could not be deduplicated.
    specversion: str = Field(pattern=r"^1\.0$")
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, description="The emitting service, /mla/<service>.")
    type: str = Field(min_length=1, description="e.g. mla.request.received")
    subject: str = Field(min_length=1, description="The request id, also the partition key.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    schemaversion: int = Field(default=1, ge=1)
    correlationid: str | None = None
    causationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def create(cls, *, event_id: str | None = None, **attributes: Any) -> CloudEvent:
        """A new event with a fresh id, or with `event_id`: the id of an event that must be
        the same one however many times it is made (consumers skip its copies)."""
        return cls(specversion="1.0", id=event_id or str(uuid.uuid4()), **attributes)

    @property
    def dedup_key(self) -> str:
        return f"{self.source}#{self.id}"

    def to_bytes(self) -> bytes:
        """Serialize in structured mode (UTF-8 JSON)."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> CloudEvent:
        """Parse structured-mode bytes, or raise `EnvelopeError` saying what is wrong."""
        if not raw:
            raise EnvelopeError("empty message: no CloudEvent to read")
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise EnvelopeError("a CloudEvent must be a JSON object")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise EnvelopeError(f"not a valid CloudEvent: {describe_errors(exc)}") from exc


def describe_errors(exc: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
