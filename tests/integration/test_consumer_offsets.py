"""A consumer's offsets on the real broker: committed for what is done, by the member that
holds the partition, and never in the way of the messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer import EventConsumer
from shared.event_handlers import one_by_one
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent
from shared.outbox import partition_of
from tests.support.consumers import (
    Counter,
    at_least,
    committed_up_to,
    count_effects,
    equals,
    member,
    processed,
    publish,
    publish_to,
    ready,
    record_effect,
    run_until,
    running,
    settings_for,
    withdrawal,
)
from tests.support.infra import eventually, fresh_topic, unique

pytestmark = pytest.mark.integration


class CrashesBeforeOffsetCommit(EventConsumer):
    """A consumer that dies after its database commits and before any offset commit."""

    async def commit_offsets(self, partitions: object = None) -> None:
        return None


async def test_a_consumer_restarted_between_its_commit_and_its_offset_commit_repeats_nothing(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    group = unique("group")
    await publish(kafka, topic, [withdrawal(f"req-{n}") for n in range(5)])
    settings = settings_for(kafka, topic)

    first = member(sessions, settings, group=group, kind=CrashesBeforeOffsetCommit)
    await run_until(first, lambda: at_least(sessions, 5), "five effects recorded")

    # The same five messages come again, since no offset was committed; nothing happens twice.
    second = member(sessions, settings, group=group)
    seen = Counter()
    second.handling.counted = seen.wrap(second.handling.counted)  # type: ignore[method-assign]
    await run_until(second, lambda: ready(seen.duplicates >= 5), "the five redeliveries")
    assert await count_effects(sessions) == 5


class SkippedByTheBroker(EventConsumer):
    """A member whose broker, once, hands it the messages after one it has not handed over:
    as the embedded broker does to a fetch that comes between its moving a partition's end
    and its storing the batch for it (shared/consumer_gaps.py)."""

    skip: int | None = None  # the offset to leave out of the next fetch that brings it

    async def _start_consumer(self) -> AIOKafkaConsumer:
        client = await super()._start_consumer()
        fetch = client.getmany

        async def skipping(*partitions: TopicPartition, **options: Any) -> Any:
            fetched = await fetch(*partitions, **options)
            for tp, messages in fetched.items():
                if any(message.offset == self.skip for message in messages):
                    fetched[tp] = [message for message in messages if message.offset != self.skip]
                    self.skip = None
            return fetched

        client.getmany = skipping  # type: ignore[method-assign]
        return client


async def test_a_message_the_broker_skipped_is_read_again_and_handled_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    await publish(kafka, topic, [withdrawal("req-0")])
    consumer = member(sessions, settings_for(kafka, topic), kind=SkippedByTheBroker)
    async with running(consumer):
        await eventually(lambda: at_least(sessions, 1), what="the first message handled")
        consumer.skip = 1  # type: ignore[attr-defined]
        # Three batches (one send each): the broker leaves the first of them out.
        await publish(kafka, topic, [withdrawal(f"req-{n}") for n in range(1, 4)])
        await eventually(lambda: at_least(sessions, 4), what="the three, the one skipped too")

    assert consumer.skip is None  # type: ignore[attr-defined]
    assert await count_effects(sessions) == 4


async def test_a_message_the_broker_skipped_where_a_member_takes_over_is_read_again(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka, partitions=1)
    group = unique("group")
    await publish(kafka, topic, [withdrawal(f"req-{n}") for n in range(4)])
    # The member before handled the first message, committed after it, and stopped.
    await commit(kafka, topic, group, offset=1)

    consumer = member(sessions, settings_for(kafka, topic), group=group, kind=SkippedByTheBroker)
    consumer.skip = 1  # type: ignore[attr-defined]  # its first fetch there is handed 2 and 3
    await run_until(consumer, lambda: at_least(sessions, 3), "the three after the first")

    assert consumer.skip is None  # type: ignore[attr-defined]
    assert await count_effects(sessions) == 3


async def commit(kafka: str, topic: str, group: str, offset: int) -> None:
    """Commit `offset` of the topic's first partition for `group`, as a member of it."""
    client = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, group_id=group, enable_auto_commit=False
    )
    await client.start()
    try:
        await eventually(lambda: ready(bool(client.assignment())), what="the partition assigned")
        await client.commit({TopicPartition(topic, 0): offset})
    finally:
        await client.stop()


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
        await eventually(lambda: at_least(sessions, 10), timeout=60, what="the ten handled")
        await publish_to(kafka, topic, {p: [withdrawal(f"req-{p}-late")] for p in (0, 1)})
        await eventually(lambda: at_least(sessions, 12), what="the two late ones handled")
        # Each member commits the partition it holds, up to its end.
        await eventually(
            lambda: committed_up_to(kafka, group, topic, {0: 6, 1: 6}),
            timeout=30,
            what="every partition's offset committed up to its end",
        )
    finally:
        first.reassigned.set()  # in case no rebalance came: the message in hand goes on
        first.stop()
        second.stop()
        await asyncio.wait_for(asyncio.gather(*running), 30)
    assert await count_effects(sessions) == 12


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
        await eventually(lambda: equals(count_effects(sessions), 4), what="4 effects")
        assert not consumer.release.is_set()  # handled while the commit still hung
    finally:
        consumer.release.set()
        consumer.stop()
        await asyncio.wait_for(task, 30)
    await eventually(
        lambda: committed_up_to(kafka, consumer._group_id, topic, {partition_of(b"k", 3): 4}),
        what="offsets committed at stop",
    )
