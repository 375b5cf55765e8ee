"""Telling a broker's new log from the one read before, on the real broker.

The embedded broker keeps nothing across a restart, and the relays then publish their
history again into the new log: the same events, the same bytes, often at the same offsets.
A consumer that took the copy for the message it had read would go on from there and never
read what the new log holds before it."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiokafka import TopicPartition

from devstack.broker import EmbeddedBroker, free_port
from shared.kafka import ensure_topics, make_producer, message_mark, messages_replaced
from tests.support.consumers import at_least, member, publish, settings_for, withdrawal
from tests.support.infra import eventually

pytestmark = pytest.mark.integration

TOPIC = "new-log"
EVENTS = [b'{"event": "received"}', b'{"event": "routed"}', b'{"event": "executed"}']


async def publish_all(bootstrap_servers: str) -> tuple[int, bytes, int]:
    """Each event in turn to partition 0; the last one's offset, value and timestamp."""
    producer = make_producer(bootstrap_servers, "history")
    await producer.start()
    try:
        for value in EVENTS:
            acknowledged = await (await producer.send(TOPIC, value, partition=0))
        return acknowledged.offset, value, acknowledged.timestamp
    finally:
        await producer.stop()


async def test_the_same_history_published_again_into_a_new_log_is_told_from_the_old() -> None:
    broker = EmbeddedBroker(free_port())
    broker.start()
    try:
        kafka = broker.bootstrap_servers
        await ensure_topics(kafka, {TOPIC: 1})
        offset, value, timestamp = await publish_all(kafka)
        mark = {TopicPartition(TOPIC, 0): message_mark(offset, value, timestamp)}
        assert await messages_replaced(kafka, mark) == set()  # the log read so far

        broker.stop()
        broker.start()  # empty: the relays publish the same history again
        await ensure_topics(kafka, {TOPIC: 1})
        again = await publish_all(kafka)
        assert again[:2] == (offset, value)  # the same bytes at the same offset

        assert await messages_replaced(kafka, mark) == {TopicPartition(TOPIC, 0)}
    finally:
        broker.stop()


async def test_a_consumer_that_missed_a_brief_restart_reads_what_the_new_log_holds_first(
    database: tuple[object, object],
) -> None:
    """A restart shorter than the clients' retries: the consumer never saw the broker go
    away, and a relay's next event reaches the new log before the history published again
    behind it. The copies tell the consumer that the log is another: it reads it again from
    its beginning instead of going on from its old position, past the new event."""
    _, sessions = database
    broker = EmbeddedBroker(free_port())
    broker.start()
    try:
        kafka = broker.bootstrap_servers
        await ensure_topics(kafka, {TOPIC: 1})
        history = [withdrawal("req-1"), withdrawal("req-2")]
        await publish(kafka, TOPIC, history)
        # No offset commit to notice the outage by.
        settings = settings_for(kafka, TOPIC).model_copy(
            update={"consumer_commit_interval_ms": 60_000}
        )
        consumer = member(sessions, settings)
        task = asyncio.create_task(consumer.run())
        try:
            await eventually(lambda: at_least(sessions, 2), what="the history handled")

            # While this test holds the event loop, the consumer cannot run: it finds the
            # new log already past its position when it looks again.
            broker.stop()
            broker.start()
            new_log = [withdrawal("req-3"), *history]
            beside = threading.Thread(target=asyncio.run, args=(publish_anew(kafka, new_log),))
            beside.start()
            beside.join()

            await eventually(lambda: at_least(sessions, 3), what="the new log's first event")
        finally:
            consumer.stop()
            await asyncio.wait_for(task, 30)
    finally:
        broker.stop()


async def publish_anew(kafka: str, values: list[bytes]) -> None:
    await ensure_topics(kafka, {TOPIC: 1})
    await publish(kafka, TOPIC, values)
