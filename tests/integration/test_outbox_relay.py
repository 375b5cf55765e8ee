"""The outbox relay on the real PostgreSQL and broker: what commits is published, in order."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from services.intake.adapters.tables import events, outbox
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import RequestClosed, RequestWithdrawn, new_event
from shared.events.vocabulary import Outcome
from shared.eventstore import EventStore
from shared.kafka import make_producer
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from tests.support.infra import eventually, fresh_database, fresh_topic, unique

pytestmark = pytest.mark.integration


async def test_committed_events_are_published_in_order_per_request_and_rolled_back_ones_never(
    kafka: str,
) -> None:
    engine = create_engine(await fresh_database("intake"))
    sessions = session_factory(engine)
    topic = await fresh_topic(kafka)
    settings = ServiceSettings(kafka_bootstrap_servers=kafka, topic=topic, outbox_poll_seconds=0.1)
    relay = OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        settings=settings,
        producer_factory=lambda: make_producer(kafka, "test"),
        service="test",
    )
    store = EventStore(events, outbox)
    requests = [unique("req") for _ in range(4)]
    for request_id in requests:
        async with UnitOfWork(sessions, on_commit=relay.wake) as uow:
            await store.append(
                uow.session,
                request_id,
                0,
                [
                    new_event(RequestWithdrawn(request_id=request_id), source="/mla/test"),
                    new_event(
                        RequestClosed(request_id=request_id, outcome=Outcome.WITHDRAWN),
                        source="/mla/test",
                    ),
                ],
            )
            await uow.commit()
    async with UnitOfWork(sessions) as uow:  # never committed
        await store.append(
            uow.session,
            "rolled-back",
            0,
            [new_event(RequestWithdrawn(request_id="rolled-back"), source="/mla/test")],
        )

    task = asyncio.create_task(relay.run())
    received = await read_topic(kafka, topic, expected=8)
    relay.stop()
    await asyncio.wait_for(task, 20)

    by_request: dict[str, list[str]] = {}
    for message in received:
        by_request.setdefault(message.key.decode(), []).append(
            dict(message.headers)["ce_type"].decode()
        )
    assert set(by_request) == set(requests)
    assert all(
        types == ["mla.request.withdrawn", "mla.request.closed"] for types in by_request.values()
    )
    async with sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(outbox)) == 0
    await engine.dispose()


async def read_topic(kafka: str, topic: str, expected: int) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        auto_offset_reset="earliest",
        group_id=unique("reader"),
        rebalance_timeout_ms=300,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    await consumer.start()
    messages: list[object] = []
    try:

        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                messages.extend(batch)
            return len(messages) >= expected

        await eventually(enough, what=f"{expected} messages")
        await asyncio.sleep(0.5)  # and nothing more (the rolled-back event) arrives
        for batch in (await consumer.getmany(timeout_ms=300)).values():
            messages.extend(batch)
    finally:
        await consumer.stop()
    return messages
