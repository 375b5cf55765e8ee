"""The consumer loop on the real broker and PostgreSQL: once in effect, poison aside."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.consumer import EventConsumer
from shared.db import create_engine, session_factory
from shared.event_handlers import Handler, one_by_one, processed_events_table
from shared.events.catalogue import Payload, RequestWithdrawn, new_event
from shared.events.envelope import CloudEvent
from shared.eventstore import enqueue, outbox_table
from shared.outbox import partition_of
from shared.settings import ServiceSettings
from tests.support.infra import eventually, fresh_database, fresh_topic, unique

pytestmark = pytest.mark.integration

metadata = sa.MetaData()
processed = processed_events_table(metadata)
effects = sa.Table(
    "effects",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
)
outbox = outbox_table(metadata)


@pytest.fixture
async def database() -> AsyncIterator[tuple[object, object]]:
    url = await fresh_database("notify")  # any service's migrations give processed_events
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: metadata.create_all(sync, [effects, outbox]))
    yield engine, session_factory(engine)
    await engine.dispose()


def settings_for(kafka: str, topic: str) -> ServiceSettings:
    return ServiceSettings(
        kafka_bootstrap_servers=kafka,
        topic=topic,
        retry_initial_seconds=0.05,
        retry_max_seconds=0.2,
        handler_max_attempts=2,
        consumer_session_timeout_ms=2000,
        consumer_rebalance_timeout_ms=300,
        consumer_heartbeat_ms=300,
    )


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


async def publish(kafka: str, topic: str, values: list[bytes], key: bytes = b"k") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
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


class CrashesBeforeOffsetCommit(EventConsumer):
    """A consumer that dies after its database commits and before any offset commit."""

    async def commit_offsets(self, partitions: object = None) -> None:
        return None


async def run_until(consumer: EventConsumer, condition: object, what: str) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(condition, what=what)  # type: ignore[arg-type]
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def test_a_consumer_restarted_between_its_commit_and_its_offset_commit_repeats_nothing(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    group = unique("group")
    await publish(kafka, topic, [withdrawal(f"req-{n}") for n in range(5)])
    settings = settings_for(kafka, topic)

    first = member(sessions, settings, group=group, kind=CrashesBeforeOffsetCommit)
    await run_until(first, lambda: _at_least(sessions, 5), "five effects recorded")

    # The same five messages come again, since no offset was committed; nothing happens twice.
    second = member(sessions, settings, group=group)
    seen = _Counter()
    second._counted = seen.wrap(second._counted)  # type: ignore[method-assign]
    await run_until(second, lambda: _ready(seen.duplicates >= 5), "the five redeliveries")
    assert await count_effects(sessions) == 5


async def test_a_message_delivered_twice_in_one_batch_has_its_effect_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    twice = withdrawal("req-twice")
    # One key, one partition: the three arrive together and are handled in one transaction.
    await publish(kafka, topic, [twice, withdrawal("req-once"), twice])
    consumer = member(sessions, settings_for(kafka, topic))
    seen = _Counter()
    consumer._counted = seen.wrap(consumer._counted)  # type: ignore[method-assign]
    await run_until(consumer, lambda: _ready(seen.duplicates >= 1), "the copy seen as one")
    assert await count_effects(sessions) == 2


async def test_events_of_no_concern_to_the_service_are_passed_over_without_a_record(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    # Together in one batch, then one arriving alone (the one-at-a-time path).
    await publish(kafka, topic, [withdrawal(f"other-{n}") for n in range(2)] + [withdrawal("mine")])
    consumer = member(
        sessions, settings, interest=lambda payload: not payload.request_id.startswith("other")
    )
    seen = _Counter()
    consumer._counted = seen.wrap(consumer._counted)  # type: ignore[method-assign]
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _ready(seen.ignored == 2), what="the batch's two passed over")
        await publish(kafka, topic, [withdrawal("other-alone")])
        await eventually(lambda: _ready(seen.ignored == 3), what="the lone one passed over")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)

    assert await count_effects(sessions) == 1
    async with sessions() as session:  # type: ignore[operator]
        recorded = await session.scalar(sa.select(sa.func.count()).select_from(processed))
    assert recorded == 1  # only the event it acted on


async def test_a_malformed_message_goes_to_the_dead_letter_topic_and_the_consumer_goes_on(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    await publish(
        kafka, topic, [b"{not json", b'{"specversion": "1.0"}', withdrawal("req-after-poison")]
    )
    consumer = member(sessions, settings_for(kafka, topic))
    await run_until(consumer, lambda: _at_least(sessions, 1), "the good message after the poison")

    dead = await read_all(kafka, f"{topic}.dlq", expected=2)
    reasons = [dict(m.headers)["dlq-reason"].decode() for m in dead]
    assert [m.value for m in dead] == [b"{not json", b'{"specversion": "1.0"}']
    assert "not JSON" in reasons[0]
    assert "source" in reasons[1] and "type" in reasons[1]
    assert dict(dead[0].headers)["dlq-original-topic"].decode() == topic


async def test_a_handler_that_keeps_failing_dead_letters_the_message_with_its_error(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    await publish(kafka, topic, [withdrawal("req-bad"), withdrawal("req-good")])

    async def fails_for_one(session: object, event: CloudEvent, payload: Payload) -> None:
        if payload.request_id == "req-bad":
            raise ValueError("cannot handle this one")
        await record_effect(session, event, payload)

    consumer = member(sessions, settings_for(kafka, topic), handler=fails_for_one)
    await run_until(consumer, lambda: _at_least(sessions, 1), "the next message handled")
    dead = await read_all(kafka, f"{topic}.dlq", expected=1)
    assert "cannot handle this one" in dict(dead[0].headers)["dlq-reason"].decode()


class HoldsAMessageThroughARebalance(EventConsumer):
    """A member still handling its first message when a rebalance has moved partitions."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(handler=one_by_one(self.hold_the_first), **kwargs)  # type: ignore[arg-type]
        self.in_hand = asyncio.Event()
        self.reassigned = asyncio.Event()

    async def check_log_after_join(self, assigned: set[TopicPartition]) -> None:
        if self.in_hand.is_set():
            self.reassigned.set()
        await super().check_log_after_join(assigned)

    async def hold_the_first(self, session: object, event: CloudEvent, payload: Payload) -> None:
        if not self.in_hand.is_set():
            self.in_hand.set()
            await self.reassigned.wait()
        await record_effect(session, event, payload)


async def test_a_member_that_lost_partitions_mid_batch_keeps_committing_its_own(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka, partitions=2)
    group = unique("group")
    settings = settings_for(kafka, topic)
    # Both partitions in the first member's first batch, so that one of them is taken away
    # while the batch is in hand, whichever one the rebalance gives to the second member.
    await publish_to(
        kafka, topic, {p: [withdrawal(f"req-{p}-{n}") for n in range(5)] for p in (0, 1)}
    )
    first = HoldsAMessageThroughARebalance(
        sessions=sessions, processed=processed, settings=settings, group_id=group
    )
    second = member(sessions, settings, group=group)
    running = [asyncio.create_task(first.run())]
    try:
        await asyncio.wait_for(first.in_hand.wait(), 30)
        running.append(asyncio.create_task(second.run()))
        await eventually(lambda: _at_least(sessions, 10), timeout=60, what="the ten handled")
        await publish_to(kafka, topic, {p: [withdrawal(f"req-{p}-late")] for p in (0, 1)})
        await eventually(lambda: _at_least(sessions, 12), what="the two late ones handled")
        # Each member commits the partition it holds, up to its end.
        await eventually(
            lambda: _committed_up_to(kafka, group, topic, {0: 6, 1: 6}),
            timeout=30,
            what="every partition's offset committed up to its end",
        )
    finally:
        first.reassigned.set()  # in case no rebalance came: the message in hand goes on
        first.stop()
        second.stop()
        await asyncio.wait_for(asyncio.gather(*running), 30)
    assert await count_effects(sessions) == 12


async def test_messages_of_several_partitions_fetched_together_share_one_transaction(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka, partitions=3)
    await publish_to(
        kafka, topic, {p: [withdrawal(f"req-{p}-{n}") for n in range(3)] for p in (0, 1, 2)}
    )
    transaction_of: dict[str, int] = {}

    async def note_transaction(session: object, event: CloudEvent, payload: Payload) -> None:
        await record_effect(session, event, payload)
        txid = await session.scalar(sa.text("SELECT txid_current()"))  # type: ignore[attr-defined]
        transaction_of[payload.request_id] = txid

    consumer = member(sessions, settings_for(kafka, topic), handler=note_transaction)
    await run_until(consumer, lambda: _at_least(sessions, 9), "the nine handled")

    partitions_in = {}
    for request_id, txid in transaction_of.items():
        partitions_in.setdefault(txid, set()).add(request_id.split("-")[1])
    assert max(len(p) for p in partitions_in.values()) > 1, partitions_in
    # Each partition's events were still handled in their order.
    for p in (0, 1, 2):
        order = [transaction_of[f"req-{p}-{n}"] for n in range(3)]
        assert order == sorted(order), order


async def publish_to(kafka: str, topic: str, values: dict[int, list[bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for partition, batch in values.items():
            for value in batch:
                await producer.send_and_wait(topic, value=value, partition=partition)
    finally:
        await producer.stop()


async def _committed_up_to(kafka: str, group: str, topic: str, ends: dict[int, int]) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        for partition, end in ends.items():
            if await consumer.committed(TopicPartition(topic, partition)) != end:
                return False
        return True
    finally:
        await consumer.stop()


async def read_all(kafka: str, topic: str, expected: int) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=unique("reader")
    )
    await consumer.start()
    messages: list[object] = []
    try:

        async def enough() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                messages.extend(batch)
            return len(messages) >= expected

        await eventually(enough, what=f"{expected} messages on {topic}")
    finally:
        await consumer.stop()
    return messages


async def test_the_relay_is_woken_after_a_commit_that_put_events_on_the_outbox_only(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    wakes = []

    async def publish_some(session: object, event: CloudEvent, payload: Payload) -> None:
        await record_effect(session, event, payload)
        if payload.request_id.startswith("publishes"):
            await enqueue(session, outbox, [event])  # type: ignore[arg-type]

    consumer = member(
        sessions,
        settings_for(kafka, topic),
        handler=publish_some,
        on_commit=lambda: wakes.append(1),
    )
    task = asyncio.create_task(consumer.run())
    try:
        await publish(kafka, topic, [withdrawal("keeps-1"), withdrawal("keeps-2")])
        await eventually(lambda: _at_least(sessions, 2), what="two handled")
        assert wakes == [], "nothing was put on the outbox: the relay has nothing to do"
        await publish(kafka, topic, [withdrawal("publishes-1")])
        await eventually(lambda: _at_least(sessions, 3), what="the third handled")
        await eventually(lambda: _ready(wakes == [1]), what="the relay woken once")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


class _Counter:
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


async def _at_least(sessions: object, n: int) -> bool:
    return await count_effects(sessions) >= n


async def _ready(value: bool) -> bool:
    return value


class CommitsHang(EventConsumer):
    """A consumer whose periodic offset commits hang until released (a broker's coordinator
    slow to answer)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hanging, self.release = asyncio.Event(), asyncio.Event()

    async def commit_offsets(self, partitions: set[TopicPartition] | None = None) -> bool:
        if partitions is None and not self.release.is_set():  # the periodic ones
            self.hanging.set()
            await self.release.wait()
        return await super().commit_offsets(partitions)


async def test_an_offset_commit_slow_to_be_answered_holds_up_no_message(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic).model_copy(update={"consumer_commit_interval_ms": 0})
    consumer = member(sessions, settings, kind=CommitsHang)
    assert isinstance(consumer, CommitsHang)
    task = asyncio.create_task(consumer.run())
    try:
        await publish(kafka, topic, [withdrawal(unique("req"))])
        await asyncio.wait_for(consumer.hanging.wait(), 20)

        await publish(kafka, topic, [withdrawal(unique("req")) for _ in range(3)])
        await eventually(lambda: _equals(count_effects(sessions), 4), what="4 effects")
        assert not consumer.release.is_set()  # handled while the commit still hung
    finally:
        consumer.release.set()
        consumer.stop()
        await asyncio.wait_for(task, 30)
    await eventually(
        lambda: _committed_up_to(kafka, consumer._group_id, topic, {partition_of(b"k", 3): 4}),
        what="offsets committed at stop",
    )


async def _equals(count: Any, expected: int) -> bool:
    return bool(await count == expected)
