"""Lifecycle events as tracking consumes them, at chosen moments, and their projection the
way tracking's consumer does it (one transaction for all of them)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.tracking import handlers
from shared.db import UnitOfWork, session_factory
from shared.events.catalogue import (
    Assignment,
    MeasureRef,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    new_event,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails


def details(country: str, category: str) -> RequestDetails:
    body = {**EXAMPLE_REQUEST, "offence_category": category}
    body["requesting_authority"] = {**EXAMPLE_REQUEST["requesting_authority"], "country": country}
    return RequestDetails.model_validate(body)


def at(event: CloudEvent, time: datetime) -> CloudEvent:
    return event.model_copy(update={"time": time})


def received(request_id: str, when: datetime, country: str, category: str) -> CloudEvent:
    payload = RequestReceived(
        request_id=request_id,
        domestic_reference=f"MPP-2026-{uuid.uuid4().int % 1_000_000:06d}",
        received_at=when,
        details=details(country, category),
    )
    return at(new_event(payload, source="/mla/intake"), when)


def routed(request_id: str, when: datetime, office: str) -> tuple[CloudEvent, str]:
    assignment = Assignment(
        assignment_id=str(uuid.uuid4()),
        office_id=office,
        office_name=office,
        measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
        rule="territorial",
        basis="measure 0 in Subotica",
    )
    payload = RequestRouted(
        request_id=request_id, assignments=[assignment], directory_version=1, trace=[]
    )
    return at(new_event(payload, source="/mla/routing"), when), assignment.assignment_id


def executed(request_id: str, assignment_id: str, when: datetime) -> CloudEvent:
    payload = RequestExecuted(
        request_id=request_id,
        assignment_id=assignment_id,
        office_id="vjt-subotica",
        result=ExecutionResult.EXECUTED,
        outstanding=0,
    )
    return at(new_event(payload, source="/mla/routing"), when)


def closed(request_id: str, when: datetime) -> CloudEvent:
    payload = RequestClosed(request_id=request_id, outcome=Outcome.COMPLETED)
    return at(new_event(payload, source="/mla/intake"), when)


async def project(engine: AsyncEngine, *events: CloudEvent) -> None:
    async with UnitOfWork(session_factory(engine)) as uow:
        for event in events:
            await handlers.project_event(uow.session, event, read_payload(event))
        await uow.commit()
