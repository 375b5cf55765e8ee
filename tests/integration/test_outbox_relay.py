"""The outbox relay on the real PostgreSQL and broker: what commits is published, in order."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import shared.outbox
from devstack.broker import EmbeddedBroker, free_port
from services.intake.adapters.tables import events, outbox
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import RequestClosed, RequestWithdrawn, new_event
from shared.events.vocabulary import Outcome
from shared.eventstore import EventStore, requeue_history
from shared.kafka import ensure_topics, make_producer
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


async def test_an_idle_relay_whose_broker_lost_its_log_publishes_its_history_again(
    pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded broker keeps nothing across a restart: a service that publishes nothing
    afterwards finds out by its periodic look and queues its history again, so what was
    acknowledged but perhaps not yet consumed is not lost with the log."""
    monkeypatch.setattr(shared.outbox, "LOG_CHECK_SECONDS", 0.2)
    broker = EmbeddedBroker(free_port())
    broker.start()
    try:
        kafka = broker.bootstrap_servers
        relay, sessions, topic = await a_relay_with_history(kafka)
        task = asyncio.create_task(relay.run())
        try:
            published = {await commit_withdrawal(sessions, relay) for _ in range(3)}
            assert await read_keys(kafka, topic, expected=published) == published

            broker.stop()
            broker.start()  # empty, and nothing new is committed
            await ensure_topics(kafka, {topic: 3})
            assert await read_keys(kafka, topic, expected=published) == published
        finally:
            relay.stop()
            await asyncio.wait_for(task, 20)
    finally:
        broker.stop()


async def test_a_relay_that_keeps_publishing_does_not_stop_to_look_at_the_log(
    pg_server: str, kafka: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look at the broker's log is for an idle relay: one that keeps publishing learns
    of a new log from the offsets it is given, and every event would wait for the look."""
    monkeypatch.setattr(shared.outbox, "LOG_CHECK_SECONDS", 0.2)
    looks = []
    real_end_offsets = shared.outbox.end_offsets

    async def counted(bootstrap_servers: str, topic: str) -> dict[int, int]:
        looks.append(asyncio.get_running_loop().time())
        return await real_end_offsets(bootstrap_servers, topic)

    monkeypatch.setattr(shared.outbox, "end_offsets", counted)
    relay, sessions, topic = await a_relay_with_history(kafka)

    async def looked(times: int) -> bool:
        return len(looks) >= times

    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: looked(1), what="the look at the first connection")
        published = set()
        for _ in range(20):  # a second of publishing, five times the look's interval
            published.add(await commit_withdrawal(sessions, relay))
            await asyncio.sleep(0.05)
        assert len(looks) == 1
        assert await read_keys(kafka, topic, expected=published) == published

        await eventually(lambda: looked(2), what="a look once the relay is idle")
    finally:
        relay.stop()
        await asyncio.wait_for(task, 20)


async def test_a_relay_finds_its_rows_by_their_key_however_many_deleted_ones_the_outbox_holds(
    kafka: str,
) -> None:
    """The outbox is a queue: each row is deleted moments after it is stored, and its pages
    fill with deleted rows until a vacuum. The relay's statement, first planned while the
    table was a page, still reads the row or two to publish by their key once the table
    holds thousands of deleted rows, instead of scanning all their pages at every batch.

    The scans are counted, not the pages read: how many deleted rows a look by key still
    visits depends on whether any other transaction of the database (an automatic analyze
    of its catalogue, say) was open when they were deleted, which the test does not rule."""
    engine = create_engine(await fresh_database("intake"), pool_size=1)
    async with engine.begin() as connection:
        # No vacuum to empty the pages meanwhile.
        await connection.execute(sa.text("ALTER TABLE outbox SET (autovacuum_enabled = false)"))
    sessions = session_factory(engine)
    relay = OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        settings=ServiceSettings(kafka_bootstrap_servers=kafka, topic=await fresh_topic(kafka)),
        producer_factory=lambda: make_producer(kafka, "test"),
        service=unique("relay"),
    )
    try:
        for _ in range(8):  # PostgreSQL keeps a statement's plan from its sixth run on
            await commit_withdrawal(sessions, relay)
            assert await relay.publish_batch() == 1
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO outbox (event_id, key, type, body) SELECT n::text, 'k', 't', "
                    "convert_to(repeat(md5(n::text), 64), 'UTF8') "
                    "FROM generate_series(1, 3000) AS n"
                )
            )
            await connection.execute(sa.text("DELETE FROM outbox"))

        await commit_withdrawal(sessions, relay)
        seq_before, by_key_before = await outbox_scans(engine)
        assert await relay.publish_batch() == 1
        seq_after, by_key_after = await outbox_scans(engine)
        assert seq_after - seq_before == 0, "the table scanned"
        assert by_key_after - by_key_before >= 1, "read by key"
    finally:
        relay.stop()
        await relay.run()  # at once: it flushes what is left and closes its producer
        await engine.dispose()


async def outbox_scans(engine: AsyncEngine) -> tuple[int, int]:
    """The outbox table's scans so far, whole and by index (its one pooled connection's
    included)."""
    async with engine.connect() as connection:
        # The connection's own counts reach the statistics when its next transaction ends.
        await connection.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        await connection.commit()
        await connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        row = (
            await connection.execute(
                sa.text(
                    "SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname = 'outbox'"
                )
            )
        ).one()
        return int(row.seq_scan), int(row.idx_scan)


async def a_relay_with_history(
    kafka: str,
) -> tuple[OutboxRelay, async_sessionmaker[AsyncSession], str]:
    sessions = session_factory(create_engine(await fresh_database("intake")))
    topic = await fresh_topic(kafka)
    settings = ServiceSettings(
        kafka_bootstrap_servers=kafka,
        topic=topic,
        outbox_poll_seconds=0.1,
        provision_topics=False,
        retry_initial_seconds=0.1,
        retry_max_seconds=0.5,
    )

    async def history(session: AsyncSession) -> int:
        return await requeue_history(session, events, outbox, frozenset({WITHDRAWN}))

    relay = OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        settings=settings,
        producer_factory=lambda: make_producer(kafka, "test"),
        service=unique("relay"),
        history=history,
    )
    return relay, sessions, topic


WITHDRAWN = "mla.request.withdrawn"


async def commit_withdrawal(sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay) -> str:
    request_id = unique("req")
    async with UnitOfWork(sessions, on_commit=relay.wake) as uow:
        await EventStore(events, outbox).append(
            uow.session,
            request_id,
            0,
            [new_event(RequestWithdrawn(request_id=request_id), source="/mla/test")],
        )
        await uow.commit()
    return request_id


async def read_keys(kafka: str, topic: str, expected: set[str]) -> set[str]:
    """The keys of the messages on the topic, read from its start once all are there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, partition) for partition in range(3)]
    consumer.assign(partitions)  # no group to join: read from the start of each partition
    await consumer.seek_to_beginning(*partitions)
    keys: set[str] = set()
    try:

        async def all_there() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                keys.update(message.key.decode() for message in batch if message.key)
            return expected <= keys

        await eventually(all_there, what=f"{sorted(expected - keys)} on the topic")
    finally:
        await consumer.stop()
    return keys


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
