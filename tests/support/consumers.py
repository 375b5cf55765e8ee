"""A consumer under test on the real broker and PostgreSQL: its tables, its members and
what the tests publish and look at."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.broker_connection import BrokerConnection
from shared.consumer import EventConsumer
from shared.db import create_engine, session_factory
from shared.event_handlers import Handler, one_by_one, processed_events_table
from shared.events.catalogue import Payload, RequestWithdrawn, new_event
from shared.events.envelope import CloudEvent
from shared.eventstore import outbox_table
from shared.kafka import Broker
from shared.settings import ServiceSettings
from tests.support.infra import eventually, fresh_database, unique

metadata = sa.MetaData()
processed = processed_events_table(metadata)
effects = sa.Table(
    "effects",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
)
outbox = outbox_table(metadata)


@asynccontextmanager
async def consumer_database() -> AsyncIterator[tuple[object, object]]:
    """A fresh database with `processed_events`, the effects a handler records and an outbox."""
    url = await fresh_database("notify")  # any service's migrations give processed_events
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: metadata.create_all(sync, [effects, outbox]))
    yield engine, session_factory(engine)
    await engine.dispose()


def settings_for(kafka: str, topic: str, **more: Any) -> ServiceSettings:
    """A service's settings with retries and group timing short enough for a test; `more`
    adds or changes settings (how the broker is reached, say)."""
    quick: dict[str, Any] = {
        "retry_initial_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "handler_max_attempts": 2,
        "consumer_session_timeout_ms": 2000,
        "consumer_rebalance_timeout_ms": 300,
        "consumer_heartbeat_ms": 300,
    }
    return ServiceSettings(kafka_bootstrap_servers=kafka, topic=topic, **(quick | more))


async def record_effect(session: object, event: CloudEvent, payload: Payload) -> None:
    await session.execute(sa.insert(effects).values(request_id=payload.request_id))  # type: ignore[attr-defined]


def member(
    sessions: object,
    settings: ServiceSettings,
    *,
    group: str | None = None,
    handler: Handler = record_effect,
    kind: type[EventConsumer] = EventConsumer,
    **extra: Any,
) -> EventConsumer:
    """A member of consumer group `group` (a new one when None) handling each event with
    `handler`."""
    return kind(
        sessions=sessions,  # type: ignore[arg-type]
        processed=processed,
        handler=one_by_one(handler),
        settings=settings,
        group_id=group or unique("group"),
        **extra,
    )


async def publish(broker: Broker, topic: str, values: list[bytes], key: bytes = b"k") -> None:
    """Each value, in order, under one key (over a bare `host:port` or a connection)."""
    producer = AIOKafkaProducer(**BrokerConnection.of(broker).client_options())
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def withdrawal(request_id: str) -> bytes:
    return new_event(RequestWithdrawn(request_id=request_id), source="/mla/test").to_bytes()


async def count_effects(sessions: object) -> int:
    async with sessions() as session:  # type: ignore[operator]
        return int(await session.scalar(sa.select(sa.func.count()).select_from(effects)))


@asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[EventConsumer]:
    """The consumer's loop running for the block, stopped (and waited for) after it."""
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def run_until(consumer: EventConsumer, condition: object, what: str) -> None:
    async with running(consumer):
        await eventually(condition, what=what)  # type: ignore[arg-type]


async def publish_to(kafka: str, topic: str, values: dict[int, list[bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for partition, batch in values.items():
            for value in batch:
                await producer.send_and_wait(topic, value=value, partition=partition)
    finally:
        await producer.stop()


async def read_all(broker: Broker, topic: str, expected: int) -> list[Any]:
    """The topic's messages from its start, once there are `expected` (over `broker`: a bare
    `host:port` or a service's connection)."""
    consumer = AIOKafkaConsumer(
        topic,
        **BrokerConnection.of(broker).client_options(),
        auto_offset_reset="earliest",
        group_id=unique("reader"),
    )
    await consumer.start()
    messages: list[Any] = []
    try:

        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                messages.extend(batch)
            return len(messages) >= expected

        await eventually(enough, what=f"{expected} messages on {topic}")
    finally:
        await consumer.stop()
    return messages


async def committed_up_to(kafka: str, group: str, topic: str, ends: dict[int, int]) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        for partition, end in ends.items():
            if await consumer.committed(TopicPartition(topic, partition)) != end:
                return False
        return True
    finally:
        await consumer.stop()


class Counter:
    """Counts the outcomes a consumer reports as it counts them into its metrics."""

    def __init__(self) -> None:
        self.duplicates = 0
        self.ignored = 0

    def wrap(self, count: object) -> object:
        def counted(event: CloudEvent, outcome: str) -> None:
            self.duplicates += outcome == "duplicate"
            self.ignored += outcome == "ignored"
            count(event, outcome)  # type: ignore[operator]

        return counted


async def at_least(sessions: object, n: int) -> bool:
    return await count_effects(sessions) >= n


async def ready(value: bool) -> bool:
    return value


async def equals(count: Any, expected: int) -> bool:
    return bool(await count == expected)
