"""A consumer group moved back to a moment, on the real broker: what a service restored from a
backup reads again (`python -m devstack rewind-consumer`, shared/consumer_rewind.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer_rewind import GroupInUseError, rewind_group
from shared.kafka import end_offsets
from tests.support.consumers import publish_to, settings_for
from tests.support.infra import fresh_topic, unique

pytestmark = pytest.mark.integration


async def test_a_group_rewound_to_a_moment_reads_again_what_was_sent_from_then(kafka: str) -> None:
    topic = await fresh_topic(kafka, partitions=3)
    settings = settings_for(kafka, topic)
    group = unique("restored")
    await publish_to(kafka, topic, {0: [b"before"] * 3, 1: [b"before"] * 2})
    await asyncio.sleep(0.05)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await publish_to(kafka, topic, {0: [b"after"] * 2, 1: [b"after"] * 4})
    await consume_everything(kafka, topic, group)  # commits 5 and 6; partition 2 never

    rewound = await rewind_group(settings, group, moment)

    assert [(r.partition, r.committed, r.offset, r.again) for r in rewound] == [
        (0, 5, 3, 2),
        (1, 6, 2, 4),
        (2, None, None, 0),
    ]
    assert await read_from_committed(kafka, topic, group) == [b"after"] * 6


async def test_a_rewind_never_moves_a_group_forward(kafka: str) -> None:
    topic = await fresh_topic(kafka, partitions=1)
    group = unique("restored")
    await publish_to(kafka, topic, {0: [b"one", b"two", b"three"]})
    await consume_everything(kafka, topic, group, upto=1)  # handled the first one only

    later = datetime.now(UTC) + timedelta(hours=1)
    (rewound,) = await rewind_group(settings_for(kafka, topic), group, later)

    assert (rewound.committed, rewound.offset, rewound.again) == (1, 1, 0)


async def test_a_rewind_refuses_while_an_instance_of_the_service_is_running(kafka: str) -> None:
    topic = await fresh_topic(kafka, partitions=2)
    group = unique("running")
    await publish_to(kafka, topic, {0: [b"x"], 1: [b"y"]})
    running = group_member(kafka, topic, group, session_timeout_ms=6000)
    await running.start()
    try:
        await running.getmany(timeout_ms=3000)
        poll = asyncio.create_task(keep_polling(running))
        with pytest.raises(GroupInUseError, match=r"stop every instance|no partitions"):
            await rewind_group(
                settings_for(kafka, topic), group, datetime.now(UTC), join_timeout=15
            )
        poll.cancel()
    finally:
        await running.stop()


def test_a_moment_without_its_time_zone_is_refused(kafka: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        asyncio.run(rewind_group(settings_for(kafka, "any"), "g", datetime(2026, 11, 30, 12, 0)))


async def consume_everything(kafka: str, topic: str, group: str, upto: int | None = None) -> None:
    """A member of `group` that handles what the topic holds (or its first `upto`), commits
    and leaves, as a service stopped for a restore does."""
    consumer = group_member(kafka, topic, group, session_timeout_ms=2000)
    await consumer.start()
    try:
        total = sum((await end_offsets(kafka, topic)).values())
        want = total if upto is None else upto
        seen = 0
        while seen < want:
            for tp, batch in (await consumer.getmany(timeout_ms=500, max_records=1)).items():
                seen += len(batch)
                await consumer.commit({tp: batch[-1].offset + 1})
    finally:
        await consumer.stop()


def group_member(kafka: str, topic: str, group: str, session_timeout_ms: int) -> AIOKafkaConsumer:
    """A member of `group` that commits by hand, as a service's consumer does."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=300,
    )


async def read_from_committed(kafka: str, topic: str, group: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # the topic's metadata
        messages: list[bytes] = []
        for partition in sorted(consumer.partitions_for_topic(topic) or ()):
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            committed = await consumer.committed(tp)
            if committed is None:
                continue
            consumer.seek(tp, committed)
            fetched = await consumer.getmany(tp, timeout_ms=1000)
            messages += [record.value for record in fetched.get(tp, [])]
        return messages
    finally:
        await consumer.stop()


async def keep_polling(consumer: AIOKafkaConsumer) -> None:
    while True:
        await consumer.getmany(timeout_ms=200)
