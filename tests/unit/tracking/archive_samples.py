"""The archive the archive tests share: 48 events of eight interleaved requests, chained and
signed at positions 16, 32 and 48, and the builders that make and alter such chains."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking.domain.archive import (
    GENESIS,
    Checkpoint,
    Entry,
    canonical_bytes,
    chain_hash,
    generate_private_key,
    sign_checkpoint,
)
from shared.events.catalogue import (
    Assignment,
    DeadlineApproaching,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    new_event,
)
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)
KEY = generate_private_key()
SIGNED_AT = "2026-03-09T12:00:00+00:00"
SIGNED_POSITIONS = (16, 32, 48)


def lifecycle(number: int) -> list[Payload]:
    """One request from receipt to closure, with a deadline alert on the way (6 events)."""
    request_id = f"req-{number}"
    offices = [
        Assignment(
            assignment_id=f"{request_id}-a{i}",
            office_id=office,
            office_name=f"Public Prosecution Office {office}",
            measures=[MeasureRef(index=i, type="hearing_witness", place="Novi Sad")],
            rule="territorial_basic",
            basis="seat of the measure",
        )
        for i, office in enumerate(("bjt-novi-sad", "bjt-subotica"))
    ]
    return [
        RequestReceived(
            request_id=request_id,
            domestic_reference=f"MLA-2026-{number:04d}",
            received_at=T0,
            details=DETAILS,
        ),
        RequestRouted(request_id=request_id, assignments=offices, directory_version=1, trace=[]),
        DeadlineApproaching(
            request_id=request_id,
            deadline_id=f"{request_id}-d",
            kind="x",
            due=date(2026, 4, 1),
            basis="b",
        ),
        *(
            RequestExecuted(
                request_id=request_id,
                assignment_id=a.assignment_id,
                office_id=a.office_id,
                result=ExecutionResult.EXECUTED,
                outstanding=1 - i,
            )
            for i, a in enumerate(offices)
        ),
        RequestClosed(request_id=request_id, outcome=Outcome.COMPLETED),
    ]


def interleaved_events(requests: int = 8) -> list[CloudEvent]:
    """The events of several requests as they arrive: step by step, one hour apart."""
    histories = [lifecycle(number) for number in range(1, requests + 1)]
    payloads = [history[step] for step in range(6) for history in histories]
    return [
        new_event(payload, source="/mla/routing").model_copy(
            update={"time": T0 + timedelta(hours=i)}
        )
        for i, payload in enumerate(payloads)
    ]


def build_chain(bodies: list[bytes]) -> list[Entry]:
    entries, prev = [], GENESIS
    for position, body in enumerate(bodies, 1):
        entry = Entry(position, prev, chain_hash(prev, body), body)
        entries.append(entry)
        prev = entry.hash
    return entries


def sign_at(
    entries: list[Entry], *positions: int, key: Ed25519PrivateKey = KEY
) -> list[Checkpoint]:
    return [sign_checkpoint(key, p, entries[p - 1].hash, SIGNED_AT) for p in positions]


ARCHIVE = build_chain([canonical_bytes(e.model_dump(mode="json")) for e in interleaved_events()])
CHECKPOINTS = sign_at(ARCHIVE, *SIGNED_POSITIONS)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def rewritten_from(position: int) -> Callable[[list[Entry]], list[Entry]]:
    """Change one event and recompute every later hash: the chain itself stays consistent."""
    bodies = [entry.body for entry in ARCHIVE]
    bodies[position - 1] = flip(bodies[position - 1], 30)
    return lambda e: build_chain(bodies)
