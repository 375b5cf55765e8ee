"""Whether a consumer group has handled what the topic held when a command came.

A command decided on what a service keeps of other services' facts can wait for its
consumer to have got there (`EventConsumer.caught_up`): a fact its caller has seen
elsewhere is then known here too (intake's closure, once the last execution report is in).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError

from shared.consumer_place import Place
from shared.kafka import TRANSIENT_KAFKA_ERRORS
from shared.outbox import partition_of, partitions_in_use
from shared.settings import ServiceSettings

# How often `caught_up` looks whether the loop has got there, and how often it asks the
# group's coordinator whether another member has (a request to the broker each time).
CATCH_UP_LOOK_SECONDS = 0.01
CATCH_UP_ASK_SECONDS = 0.1


async def caught_up(
    consumer: AIOKafkaConsumer,
    settings: ServiceSettings,
    place: Place,
    *,
    key: str,
    within: float,
    in_hand: Callable[[], bool],
    stopping: asyncio.Event,
) -> bool:
    """Whether the group has handled every message of `key`'s partition that the topic
    held when asked, waiting up to `within` seconds for it to get there; False when it
    did not get there in time, or the broker could not say. `place` is where this member
    is; `in_hand`, whether it is handling messages the client returned.

    When this member holds the partition, the end is the high watermark of a fetch
    answered after the question and what it handled is known here (the embedded
    broker's `ListOffsets` can name an offset before the last messages it holds, when
    they came in one batch; its fetches do not). When another member holds it, the end
    is what `ListOffsets` names and what was handled is the offset the group committed
    (each member commits every `consumer_commit_interval_ms`)."""
    known = consumer.partitions_for_topic(settings.topic)
    if not known:
        return False
    partition = partition_of(key.encode(), partitions_in_use(len(known), settings))
    tp = TopicPartition(settings.topic, partition)
    asked = time.time() * 1000  # the client's clock for the fetches it answers
    # Bounded as a whole: the client may keep a call waiting (a position being reset, a
    # coordinator being looked for), and the command waits no longer than `within`.
    look = (
        _handled_past_end(consumer, tp, asked, place, in_hand, stopping)
        if tp in consumer.assignment()
        else _group_past_end(consumer, tp, stopping)
    )
    with contextlib.suppress(TimeoutError, *TRANSIENT_KAFKA_ERRORS):
        return await asyncio.wait_for(look, within)
    return False


async def _handled_past_end(
    consumer: AIOKafkaConsumer,
    tp: TopicPartition,
    asked: float,
    place: Place,
    in_hand: Callable[[], bool],
    stopping: asyncio.Event,
) -> bool:
    while not stopping.is_set() and tp in consumer.assignment():
        if await _handled_to_end(consumer, tp, asked, place, in_hand):
            return True
        await asyncio.sleep(CATCH_UP_LOOK_SECONDS)
    return False


async def _group_past_end(
    consumer: AIOKafkaConsumer, tp: TopicPartition, stopping: asyncio.Event
) -> bool:
    end = (await consumer.end_offsets([tp]))[tp]
    while not stopping.is_set():
        # None: the group committed nothing there yet (it reads from the start).
        if (await consumer.committed(tp) or 0) >= end:
            return True
        await asyncio.sleep(CATCH_UP_ASK_SECONDS)
    return False


async def _handled_to_end(
    consumer: AIOKafkaConsumer,
    tp: TopicPartition,
    asked: float,
    place: Place,
    in_hand: Callable[[], bool],
) -> bool:
    answered, end = consumer.last_poll_timestamp(tp), consumer.highwater(tp)
    if answered is None or end is None or answered <= asked:
        return False
    handled = place.positions.get(tp)
    if handled is None:
        # Nothing handled since the partition was assigned: where the client stands, so
        # long as nothing it returned is still being handled.
        if in_hand():
            return False
        try:
            handled = await consumer.position(tp)
        except IllegalStateError:  # a rebalance took the partition meanwhile
            return False
    return bool(handled >= end)
