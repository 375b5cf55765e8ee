"""The deadline monitor on the real PostgreSQL: each alert once, whatever happens around it.

Events are projected the way tracking's consumer does (`handlers.project_event`, which also
fills the archive), and the monitor runs on a clock the test moves. An alert is an event on
tracking's outbox; the relay is not needed to see it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.tracking import audit, handlers
from services.tracking.adapters.deadline_store import DeadlineStore
from services.tracking.adapters.read_model import ReadModel, RequestFilter
from services.tracking.adapters.tables import deadline_alerts, outbox
from services.tracking.deadline_monitor import DeadlineMonitor
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import (
    DEADLINE_APPROACHING,
    DEADLINE_BREACHED,
    Assignment,
    DeadlineAlert,
    MeasureRef,
    RequestReceived,
    RequestRouted,
    new_event,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.request.model import EXAMPLE_REQUEST, RequestDetails
from tests.support.infra import fresh_database

pytestmark = pytest.mark.integration

BELGRADE = ZoneInfo("Europe/Belgrade")
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, before summer time
URGENT = RequestDetails.model_validate(EXAMPLE_REQUEST)  # urgent, requested date 2027-06-30

# What the default policies give a request received at RECEIVED (days end in Belgrade).
ACKNOWLEDGE_DUE = datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=BELGRADE)
ACKNOWLEDGE_SOON = ACKNOWLEDGE_DUE - timedelta(days=2)
DECIDE_DUE = datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=BELGRADE)  # summer time by then
DECIDE_SOON = DECIDE_DUE - timedelta(days=5)
MINUTE = timedelta(minutes=1)


@dataclass
class Tracking:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def tracking() -> AsyncIterator[Tracking]:
    engine = create_engine(await fresh_database("tracking"), pool_size=4)
    yield Tracking(engine, session_factory(engine))
    await engine.dispose()


def received(
    request_id: str, at: datetime = RECEIVED, details: RequestDetails = URGENT
) -> CloudEvent:
    payload = RequestReceived(
        request_id=request_id,
        domestic_reference=f"MPP-2026-{uuid.uuid4().int % 1_000_000:06d}",
        received_at=at,
        details=details,
    )
    return _at(new_event(payload, source="/mla/intake"), at)


def routed(request_id: str, at: datetime) -> CloudEvent:
    assignment = Assignment(
        assignment_id=str(uuid.uuid4()),
        office_id="vjt-subotica",
        office_name="Higher Public Prosecutor's Office in Subotica",
        measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
        rule="territorial",
        basis="measure 0 in Subotica",
    )
    payload = RequestRouted(
        request_id=request_id, assignments=[assignment], directory_version=1, trace=[]
    )
    return _at(new_event(payload, source="/mla/routing"), at)


def _at(event: CloudEvent, time: datetime) -> CloudEvent:
    return event.model_copy(update={"time": time})


async def project(tracking: Tracking, *events: CloudEvent) -> None:
    """What tracking's consumer does with each event, one transaction for all of them."""
    async with tracking.unit_of_work() as uow:
        for event in events:
            await handlers.project_event(uow.session, event, read_payload(event))
        await uow.commit()


async def a_received_request(tracking: Tracking) -> str:
    request_id = str(uuid.uuid4())
    await project(tracking, received(request_id))
    return request_id


async def alerts(tracking: Tracking) -> list[tuple[str, DeadlineAlert]]:
    """Every alert on the outbox, oldest first: (event type, payload)."""
    async with tracking.sessions() as session:
        rows = (await session.execute(sa.select(outbox).order_by(outbox.c.id))).all()
    found = []
    for row in rows:
        event = CloudEvent.from_bytes(row.body)
        assert event.source == "/mla/tracking"
        assert row.key == event.subject
        assert row.type == event.type
        payload = read_payload(event)
        assert isinstance(payload, DeadlineAlert)
        found.append((event.type, payload))
    return found


def alert_keys(found: list[tuple[str, DeadlineAlert]]) -> list[tuple[str, str]]:
    return [(payload.deadline_id, event_type) for event_type, payload in found]


async def deadlines_of(tracking: Tracking, request_id: str, now: datetime) -> dict[str, Any]:
    async with tracking.sessions() as session:
        rows = await DeadlineStore(session).of_request(request_id, now)
    return {row["kind"]: row for row in rows}


async def test_the_deadlines_of_a_received_request_follow_the_policies_and_state_their_basis(
    tracking: Tracking,
) -> None:
    request_id = await a_received_request(tracking)

    deadlines = await deadlines_of(tracking, request_id, RECEIVED)

    assert set(deadlines) == {"acknowledge", "decide", "execute"}
    acknowledge, decide = deadlines["acknowledge"], deadlines["decide"]
    assert (acknowledge["due"], acknowledge["due_soon_at"]) == (ACKNOWLEDGE_DUE, ACKNOWLEDGE_SOON)
    assert (decide["due"], decide["due_soon_at"]) == (DECIDE_DUE, DECIDE_SOON)
    assert acknowledge["basis"].startswith("rule acknowledge.default: acknowledge receipt")
    assert "7 calendar days from receipt on 2026-03-02, due 2026-03-09" in acknowledge["basis"]
    # Not routed yet, so the urgent execution deadline runs from the date the requester asked.
    execute = deadlines["execute"]
    assert execute["due"] == datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=BELGRADE)
    assert "(not started yet); requested date 2027-06-30 governs" in execute["basis"]
    assert {row["state"] for row in deadlines.values()} == {"on_track"}


async def test_each_alert_goes_out_once_across_scans_restarts_and_replays(
    tracking: Tracking,
) -> None:
    request_id = await a_received_request(tracking)
    clock = Clock(ACKNOWLEDGE_SOON - MINUTE)
    monitor = DeadlineMonitor(tracking.unit_of_work, clock=clock)
    acknowledge = f"{request_id}:acknowledge"

    assert await monitor.scan() == 0
    assert await alerts(tracking) == []

    clock.now = ACKNOWLEDGE_SOON + MINUTE
    assert await monitor.scan() == 1
    [(event_type, alert)] = await alerts(tracking)
    assert event_type == DEADLINE_APPROACHING
    assert (alert.request_id, alert.deadline_id) == (request_id, acknowledge)
    assert alert.kind == "acknowledge"
    assert alert.due.isoformat() == "2026-03-09"
    assert alert.basis.startswith("rule acknowledge.default:")

    assert await monitor.scan() == 0
    clock.now = ACKNOWLEDGE_DUE - MINUTE
    assert await monitor.scan() == 0
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 0  # a restart

    clock.now = ACKNOWLEDGE_DUE + MINUTE
    assert await monitor.scan() == 1
    assert await monitor.scan() == 0
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 0

    replayed = await audit.replay(tracking.unit_of_work(), apply=True)
    assert (replayed["equal_to_live"], replayed["applied"]) == (True, True)
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 0

    # The monitor still works after all that: the next deadline gets its alert.
    clock.now = DECIDE_SOON + MINUTE
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    assert alert_keys(await alerts(tracking)) == [
        (acknowledge, DEADLINE_APPROACHING),
        (acknowledge, DEADLINE_BREACHED),
        (f"{request_id}:decide", DEADLINE_APPROACHING),
    ]


async def test_two_monitors_scanning_at_once_emit_each_alert_once(tracking: Tracking) -> None:
    request_id = await a_received_request(tracking)
    clock = Clock(ACKNOWLEDGE_SOON + MINUTE)
    first = DeadlineMonitor(tracking.unit_of_work, clock=clock)
    second = DeadlineMonitor(tracking.unit_of_work, clock=clock)

    emitted = await asyncio.gather(first.scan(), second.scan())

    assert sorted(emitted) == [0, 1]
    assert alert_keys(await alerts(tracking)) == [
        (f"{request_id}:acknowledge", DEADLINE_APPROACHING)
    ]


async def test_an_alert_made_again_after_its_claim_was_lost_is_the_same_event(
    tracking: Tracking,
) -> None:
    """What a restore of tracking's database from a backup older than the alert does: the
    claim and the outbox row are gone, so the alert is made again, while the first one is on
    the topic for tracking's consumer to read again. Both are one event, which the archive
    and notify take once."""
    await a_received_request(tracking)
    clock = Clock(ACKNOWLEDGE_SOON + MINUTE)
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    first = await alert_events(tracking)
    async with tracking.unit_of_work() as uow:  # the database as it was before the alert
        await uow.session.execute(sa.delete(deadline_alerts))
        await uow.session.execute(sa.delete(outbox))
        await uow.commit()

    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    again = await alert_events(tracking)
    assert [(e.source, e.id) for e in again] == [(e.source, e.id) for e in first]
    assert [e.data for e in again] == [e.data for e in first]

    clock.now = ACKNOWLEDGE_DUE + MINUTE  # another threshold: another event
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    breach = (await alert_events(tracking))[-1]
    assert breach.id != first[0].id


async def alert_events(tracking: Tracking) -> list[CloudEvent]:
    async with tracking.sessions() as session:
        bodies = (await session.scalars(sa.select(outbox.c.body).order_by(outbox.c.id))).all()
    return [CloudEvent.from_bytes(body) for body in bodies]


async def test_a_monitor_that_was_down_past_the_due_date_sends_only_the_breach(
    tracking: Tracking,
) -> None:
    request_id = await a_received_request(tracking)
    clock = Clock(ACKNOWLEDGE_DUE + MINUTE)

    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 0
    assert alert_keys(await alerts(tracking)) == [(f"{request_id}:acknowledge", DEADLINE_BREACHED)]


async def test_a_deadline_met_by_routing_gets_no_alert(tracking: Tracking) -> None:
    request_id = str(uuid.uuid4())
    await project(tracking, received(request_id), routed(request_id, RECEIVED + timedelta(days=1)))
    clock = Clock(DECIDE_DUE + MINUTE)  # past acknowledge and decide: both met by routing

    deadlines = await deadlines_of(tracking, request_id, clock.now)
    assert deadlines["acknowledge"]["state"] == deadlines["decide"]["state"] == "met"
    # Routed on 3 March: the urgent house rule gives 10 days, and the requested date is later.
    execute = deadlines["execute"]
    assert execute["due"] == datetime(2026, 3, 13, 23, 59, 59, 999999, tzinfo=BELGRADE)
    assert "10 calendar days from routing on 2026-03-03, due 2026-03-13" in execute["basis"]
    assert "requested date 2027-06-30 is later: the rule's date stands" in execute["basis"]

    clock.now = execute["due_soon_at"] - MINUTE  # acknowledge is past due, but was met
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 0
    clock.now = DECIDE_DUE + MINUTE  # every deadline past due: only the unmet one alerts
    assert await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() == 1
    assert alert_keys(await alerts(tracking)) == [(f"{request_id}:execute", DEADLINE_BREACHED)]


async def test_every_deadline_past_due_gets_its_breach_alert_however_many_are_open(
    tracking: Tracking,
) -> None:
    # Data preserved for a requester is a reminder met by no step (the formal request must
    # follow within 60 days): 100 preservations give 100 such deadlines that stay open for
    # ever, and 100 provisional-measure ones. Three such requests, 100 days apart, make a
    # backlog of exactly 500 open deadlines past due; a fourth, later, adds 2 more.
    def preserving(count: int) -> RequestDetails:
        measures = [{"type": "preservation_of_data", "place": "Beograd"}] * count
        return RequestDetails.model_validate(
            {**EXAMPLE_REQUEST, "measures": measures, "requested_date": None}
        )

    plain = RequestDetails.model_validate({**EXAMPLE_REQUEST, "requested_date": None})
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    backlog = [(0, preserving(100)), (100, preserving(100)), (200, preserving(47)), (300, plain)]
    await project(
        tracking,
        *(
            received(str(uuid.uuid4()), start + timedelta(days=days), details)
            for days, details in backlog
        ),
    )
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    async with tracking.sessions() as session:
        open_past_due = await DeadlineStore(session).needing_alerts(clock.now, limit=10_000)
    assert len(open_past_due) == 2 * 100 + 2 + 2 * 100 + 2 + 2 * 47 + 2 + 2

    emitted = [await DeadlineMonitor(tracking.unit_of_work, clock=clock).scan() for _ in range(2)]

    assert sum(emitted) == 502


async def test_a_replay_applied_to_the_live_read_model_keeps_the_overdue_filter(
    tracking: Tracking,
) -> None:
    request_id = await a_received_request(tracking)
    now = ACKNOWLEDGE_DUE + MINUTE

    assert await overdue(tracking, now) == [request_id]
    replayed = await audit.replay(tracking.unit_of_work(), apply=True)
    assert (replayed["equal_to_live"], replayed["applied"]) == (True, True)

    assert await overdue(tracking, now) == [request_id]


async def overdue(tracking: Tracking, now: datetime) -> list[str]:
    async with tracking.sessions() as session:
        views = await ReadModel(session).page(
            RequestFilter(overdue=True), now=now, descending=False, after=None, limit=10
        )
    return [view.request_id for view in views]
