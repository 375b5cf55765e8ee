"""Consumers take what arrived together as one batch (tracking and notify table by table,
routing and intake with each request loaded once and every append in one statement): on
the real PostgreSQL, a batch leaves exactly what the same events taken one at a time leave."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.intake import handlers as intake
from services.intake.adapters.repository import RequestRepository
from services.intake.adapters.tables import events as intake_events
from services.intake.adapters.tables import outbox as intake_outbox
from services.notify import handlers as notify
from services.notify.adapters.subscriptions import SubscriptionRepository
from services.notify.adapters.tables import deliveries, inbox, request_facts
from services.notify.domain.draft import SubscriptionDraft
from services.routing.adapters.directory_store import DirectoryStore
from services.routing.adapters.tables import assignment_index
from services.routing.adapters.tables import events as routing_events
from services.routing.adapters.tables import outbox as routing_outbox
from services.routing.handlers import Routing
from services.tracking import handlers as tracking
from services.tracking.adapters.tables import archive, deadlines, requests
from shared.db import UnitOfWork, create_engine, driver, session_factory
from shared.events.catalogue import (
    CLOSED,
    DEADLINE_BREACHED,
    EXECUTED,
    RECEIVED,
    ROUTED,
    Payload,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.eventstore import EventStore, StoredEvent
from tests.integration.notify import events as notices
from tests.support.infra import fresh_database
from tests.support.tracking_events import closed, executed, received, routed

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROUTING_STORE = EventStore(routing_events, routing_outbox)
INTAKE_STORE = EventStore(intake_events, intake_outbox)
BatchHandler = Callable[[AsyncSession, Sequence[tuple[CloudEvent, Payload]]], Any]


@pytest.fixture
async def engines(request: pytest.FixtureRequest) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    service = request.param
    batch = create_engine(await fresh_database(service), pool_size=2)
    single = create_engine(await fresh_database(service), pool_size=2)
    yield batch, single
    await batch.dispose()
    await single.dispose()


def interleaved_lifecycles() -> list[CloudEvent]:
    """Three requests whose events arrive mixed, two of them of one request back to back."""
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    routed_first, first_assignment = routed(first, MONDAY + timedelta(hours=2), "vjt-subotica")
    routed_second, _ = routed(second, MONDAY + timedelta(hours=5), "vjt-novi-sad")
    return [
        received(first, MONDAY, "AT", "corruption"),
        received(second, MONDAY + timedelta(hours=1), "DE", "cybercrime"),
        routed_first,
        executed(first, first_assignment, MONDAY + timedelta(days=3)),
        received(third, MONDAY + timedelta(hours=4), "AT", "money_laundering"),
        routed_second,
        closed(first, MONDAY + timedelta(days=4)),
    ]


async def take(engine: AsyncEngine, handler: BatchHandler, batches: list[list[CloudEvent]]) -> None:
    for batch in batches:
        async with UnitOfWork(session_factory(engine)) as uow:
            await handler(uow.session, [(event, read_payload(event)) for event in batch])
            await uow.commit()


async def rows(engine: AsyncEngine, table: sa.Table, *order: str, leave: tuple[str, ...] = ()):
    async with engine.connect() as connection:
        result = await connection.execute(sa.select(table).order_by(*order))
        return [{k: v for k, v in r._mapping.items() if k not in leave} for r in result]


@pytest.mark.parametrize("engines", ["tracking"], indirect=True)
async def test_tracking_projects_a_batch_as_it_projects_each_event_alone(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    batch, single = engines
    events = interleaved_lifecycles()
    await take(batch, tracking.project_events, [events[:4], events[4:]])
    await take(single, tracking.project_events, [[event] for event in events])

    # The same chain, hash for hash: positions, links and bodies.
    chain = await rows(batch, archive, "position", leave=("recorded_at",))
    assert [entry["event_id"] for entry in chain] == [event.id for event in events]
    assert chain == await rows(single, archive, "position", leave=("recorded_at",))
    assert await rows(batch, requests, "request_id") == await rows(single, requests, "request_id")
    assert await rows(batch, deadlines, "deadline_id") == await rows(
        single, deadlines, "deadline_id"
    )
    views = {row["request_id"]: row for row in await rows(batch, requests, "request_id")}
    assert sorted(view["status"] for view in views.values()) == ["closed", "received", "routed"]
    assert await rows(batch, deadlines, "deadline_id"), "the requests have deadlines"


@pytest.mark.parametrize("engines", ["notify"], indirect=True)
async def test_notify_takes_a_batch_in_as_it_takes_each_event_alone(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    batch, single = engines
    wanted = [
        SubscriptionDraft(
            channel="email",
            recipients=("desk@mpp.example",),
            language="en",
            event_types=(RECEIVED, ROUTED, EXECUTED, DEADLINE_BREACHED),
        ),
        SubscriptionDraft(
            channel="webhook", url="https://hooks.example/mla", office_id="vjt-subotica"
        ),
        SubscriptionDraft(
            channel="email",
            recipients=("lj@mpp.example",),
            authority_name=notices.LJUBLJANA,
            authority_country="SI",
        ),
    ]
    for engine in (batch, single):
        async with UnitOfWork(session_factory(engine)) as uow:
            for index, draft in enumerate(wanted):
                subscription = draft.accept(f"subscription-{index}", b"k" * 32)
                await SubscriptionRepository(uow.session).add(subscription)
            await uow.commit()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        notices.received(first, "MPP-2026-000001"),
        notices.routed(first, ("vjt-subotica", "VJT Subotica"), ("vjt-novi-sad", "VJT Novi Sad")),
        notices.received(second, "MPP-2026-000002", country="AT"),
        notices.executed(first, "vjt-subotica", outstanding=1),
        notices.routing_failed(second),
        notices.breached(first),
    ]

    async def take_in(session: AsyncSession, taken: Sequence[tuple[CloudEvent, Payload]]) -> None:
        await notify.take_in(session, taken, tracking_url="https://tracking.mla.example")

    await take(batch, take_in, [events])
    await take(single, take_in, [[event] for event in events])

    leave = ("created_at", "updated_at", "next_attempt_at", "received_at")
    for table, order in ((inbox, "event_key"), (request_facts, "request_id"), (deliveries, "id")):
        assert await rows(batch, table, order, leave=leave) == await rows(
            single, table, order, leave=leave
        ), table.name
    made = await rows(batch, deliveries, "id", leave=leave)
    assert len(made) > len(events), "each event reached at least one subscription"
    references = {
        row["request_id"]: row["domestic_reference"]
        for row in await rows(batch, request_facts, "request_id")
    }
    assert references == {first: "MPP-2026-000001", second: "MPP-2026-000002"}


def stream_shapes(stored: dict[str, list[StoredEvent]]) -> dict[str, list[tuple[str, Any]]]:
    """Each stream's events by type and payload, without what is new at every run (event
    and assignment ids, times)."""
    volatile = {"assignment_id", "time", "routed_at", "decided_at"}

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return value

    return {
        stream_id: [(item.event.type, shape(item.event.data)) for item in items]
        for stream_id, items in stored.items()
    }


async def streams_and_outbox(
    engine: AsyncEngine, store: EventStore, outbox_table: sa.Table, ids: list[str]
) -> tuple[dict[str, list[tuple[str, Any]]], list[tuple[str, str]]]:
    async with UnitOfWork(session_factory(engine)) as uow:
        stored = await store.load_many(uow.session, ids)
    out = [(row["key"], row["type"]) for row in await rows(engine, outbox_table, "id")]
    return stream_shapes(stored), out


@pytest.mark.parametrize("engines", ["routing"], indirect=True)
async def test_routing_routes_a_batch_as_it_routes_each_event_alone(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    batch, single = engines
    routing = Routing(DirectoryStore())
    for engine in engines:
        async with UnitOfWork(session_factory(engine)) as uow:
            await routing.directories.ensure_seeded(uow.session)
            await uow.commit()
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    first_received = received(first, MONDAY, "AT", "corruption")
    events = [
        first_received,
        received(second, MONDAY + timedelta(hours=1), "DE", "cybercrime"),
        first_received,  # delivered twice: routed once
        closed(first, MONDAY + timedelta(days=1)),
        received(third, MONDAY + timedelta(hours=4), "AT", "money_laundering"),
        closed(second, MONDAY + timedelta(days=2)),
        closed(second, MONDAY + timedelta(days=3)),  # closed already: nothing more
    ]
    await take(batch, routing.handle_events, [events[:4], events[4:]])
    await take(single, routing.handle_events, [[event] for event in events])

    ids = [first, second, third]
    from_batch = await streams_and_outbox(batch, ROUTING_STORE, routing_outbox, ids)
    assert from_batch == await streams_and_outbox(single, ROUTING_STORE, routing_outbox, ids)
    streams, out = from_batch
    assert [kind for kind, _ in streams[first]] == [RECEIVED, ROUTED, CLOSED]
    assert [kind for kind, _ in streams[second]] == [RECEIVED, ROUTED, CLOSED]
    assert out == [(first, ROUTED), (second, ROUTED), (third, ROUTED)]
    index = await rows(batch, assignment_index, "request_id", "office_id", leave=("assignment_id",))
    assert index == await rows(
        single, assignment_index, "request_id", "office_id", leave=("assignment_id",)
    )
    assert {row["request_id"] for row in index} == set(ids)


@pytest.mark.parametrize("engines", ["intake"], indirect=True)
async def test_intake_keeps_a_batch_of_routings_facts_as_it_keeps_each_alone(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    batch, single = engines
    first, second, third, unknown = (str(uuid.uuid4()) for _ in range(4))
    stored = {
        request_id: [received(request_id, MONDAY, "AT", "corruption")]
        for request_id in (first, second, third)
    }
    stored[third].append(closed(third, MONDAY + timedelta(hours=1)))
    for engine in engines:
        async with UnitOfWork(session_factory(engine)) as uow:
            for request_id, history in stored.items():
                await INTAKE_STORE.append(uow.session, request_id, 0, history, publish=False)
            await uow.commit()
    routed_first, first_assignment = routed(first, MONDAY + timedelta(hours=2), "vjt-subotica")
    facts = [
        routed_first,
        routed(second, MONDAY + timedelta(hours=3), "vjt-novi-sad")[0],
        executed(first, first_assignment, MONDAY + timedelta(days=3)),  # with its routing
        routed(unknown, MONDAY + timedelta(hours=3), "vjt-subotica")[0],  # never received here
        routed(third, MONDAY + timedelta(hours=4), "vjt-subotica")[0],  # closed already
    ]

    # The whole batch in one transaction: one statement loads its requests, one appends.
    sent: list[str] = []
    async with UnitOfWork(session_factory(batch)) as uow:
        (await driver(uow.session)).add_query_logger(lambda record: sent.append(record.query))
        await intake.observe_routing(uow.session, [(fact, read_payload(fact)) for fact in facts])
        await uow.commit()
    assert len([query for query in sent if query.strip(" ;") != "COMMIT"]) == 2
    await take(single, intake.observe_routing, [[fact] for fact in facts])

    ids = [first, second, third, unknown]
    from_batch = await streams_and_outbox(batch, INTAKE_STORE, intake_outbox, ids)
    assert from_batch == await streams_and_outbox(single, INTAKE_STORE, intake_outbox, ids)
    streams, out = from_batch
    assert [kind for kind, _ in streams[first]] == [RECEIVED, ROUTED, EXECUTED]
    assert [kind for kind, _ in streams[second]] == [RECEIVED, ROUTED]
    assert [kind for kind, _ in streams[third]] == [RECEIVED, CLOSED]
    assert unknown not in streams
    assert out == [], "routing's facts are kept, not published again"
    async with UnitOfWork(session_factory(batch)) as uow:
        kept = await RequestRepository(uow.session).get_many(ids)
    assert {request_id: request.status for request_id, request in kept.items()} == {
        first: "executed",
        second: "routed",
        third: "closed",
    }
