"""Lifecycle events as intake, routing and tracking publish them, for feeding notify."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from typing import Any

from shared.events.catalogue import (
    Assignment,
    DeadlineBreached,
    MeasureRef,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RoutingFailed,
    new_event,
)
from shared.events.envelope import CloudEvent
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

LJUBLJANA = EXAMPLE_REQUEST["requesting_authority"]["name"]
# What must never appear in an e-mail: the persons of the example request and its facts.
PERSONAL = ("Dragan Example", "Mira Sample", "1984-05-17", "17.05.1984", "organised group")


def received(request_id: str, reference: str = "MPP-2026-000042", **authority: Any) -> CloudEvent:
    body = copy.deepcopy(EXAMPLE_REQUEST)
    body["requesting_authority"].update(authority)
    details = RequestDetails.model_validate(body)
    payload = RequestReceived(
        request_id=request_id,
        domestic_reference=reference,
        received_at=datetime.now(UTC),
        details=details,
    )
    return new_event(payload, source="/mla/intake")


def routed(request_id: str, *offices: tuple[str, str]) -> CloudEvent:
    payload = RequestRouted(
        request_id=request_id,
        assignments=[
            Assignment(
                assignment_id=str(uuid.uuid4()),
                office_id=office_id,
                office_name=office_name,
                measures=[MeasureRef(index=index, type="search_and_seizure", place="Subotica")],
                rule="territorial",
                basis="Law on Seats, art. 4",
            )
            for index, (office_id, office_name) in enumerate(offices)
        ],
        directory_version=1,
        trace=[],
    )
    return new_event(payload, source="/mla/routing")


def routing_failed(request_id: str) -> CloudEvent:
    payload = RoutingFailed(
        request_id=request_id, reason="no office serves Atlantis", directory_version=1, trace=[]
    )
    return new_event(payload, source="/mla/routing")


def executed(request_id: str, office_id: str, outstanding: int = 0) -> CloudEvent:
    payload = RequestExecuted(
        request_id=request_id,
        assignment_id=str(uuid.uuid4()),
        office_id=office_id,
        result="executed",
        details="Dragan Example was heard",  # free text: must stay out of e-mails
        outstanding=outstanding,
    )
    return new_event(payload, source="/mla/routing")


def breached(request_id: str) -> CloudEvent:
    payload = DeadlineBreached(
        request_id=request_id,
        deadline_id=str(uuid.uuid4()),
        kind="execute",
        due=date(2026, 5, 4),
        basis="EIO Directive art. 12",
    )
    return new_event(payload, source="/mla/tracking")


def new_request_id() -> str:
    return str(uuid.uuid4())
