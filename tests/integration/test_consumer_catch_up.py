"""A command can wait for its service's consumer to have taken in what the topic held when
the command came (`EventConsumer.caught_up`), on the real broker and PostgreSQL: a fact the
caller has seen elsewhere is then known here, and a consumer that cannot get there in time
says so rather than keeping the command waiting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.consumer import EventConsumer
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent
from shared.outbox import partition_of
from tests.support.consumers import (
    at_least,
    count_effects,
    member,
    publish,
    record_effect,
    running,
    settings_for,
    withdrawal,
)
from tests.support.infra import eventually, fresh_topic, unique

pytestmark = pytest.mark.integration


async def test_a_consumer_caught_up_with_a_key_has_handled_what_was_published_under_it(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    # A fetch held long and a handler that takes its time: what was published is neither
    # fetched nor handled at once.
    settings = settings_for(kafka, topic, consumer_fetch_max_wait_ms=500)

    async def slowly(session: Any, event: CloudEvent, payload: Payload) -> None:
        await asyncio.sleep(0.3)
        await record_effect(session, event, payload)

    async with running(member(sessions, settings, handler=slowly)) as consumer:
        await publish(kafka, topic, [withdrawal("first")], key=b"request-1")
        await eventually(lambda: at_least(sessions, 1), what="the first event handled")

        await publish(kafka, topic, [withdrawal("second"), withdrawal("third")], key=b"request-1")
        assert await consumer.caught_up("request-1", within=30)
        assert await count_effects(sessions) == 3, "both handled by the time it said so"


async def test_a_consumer_that_cannot_get_there_in_time_says_so(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    released = asyncio.Event()

    async def stuck(session: Any, event: CloudEvent, payload: Payload) -> None:
        if payload.request_id == "stuck":
            await released.wait()
        await record_effect(session, event, payload)

    async with running(member(sessions, settings_for(kafka, topic), handler=stuck)) as consumer:
        try:
            await publish(kafka, topic, [withdrawal("first")], key=b"request-2")
            await eventually(lambda: at_least(sessions, 1), what="the first event handled")
            assert await consumer.caught_up("request-2", within=5), "nothing left to handle"

            await publish(kafka, topic, [withdrawal("stuck")], key=b"request-2")
            assert not await consumer.caught_up("request-2", within=0.5)
            assert await count_effects(sessions) == 1
            released.set()
            assert await consumer.caught_up("request-2", within=30)
            assert await count_effects(sessions) == 2
        finally:
            released.set()  # the consumer cannot stop while the handler holds it


async def test_a_consumer_not_yet_running_cannot_say(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    consumer = member(sessions, settings_for(kafka, await fresh_topic(kafka)))
    assert not await consumer.caught_up("request-3", within=0.2)


async def test_a_member_tells_when_the_member_holding_a_key_has_handled_it(
    kafka: str, database: tuple[object, object]
) -> None:
    # Several instances of a service share the partitions: the one a command comes to may
    # not hold the request's partition, and learns from the offsets the group commits.
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    group = unique("group")
    async with (
        running(member(sessions, settings, group=group)) as asked,
        running(member(sessions, settings, group=group)) as holder,
    ):

        async def settled() -> bool:
            mine, theirs = held(asked), held(holder)
            return bool(mine) and bool(theirs) and len(mine | theirs) == 3

        await eventually(settled, what="the two members share the three partitions")
        key = next(
            f"request-{n}"
            for n in range(100)
            if partition_of(f"request-{n}".encode(), 3) in held(holder)
        )
        await publish(kafka, topic, [withdrawal("a"), withdrawal("b")], key=key.encode())

        assert await asked.caught_up(key, within=30)
        assert await count_effects(sessions) == 2, "handled and committed by the holder"


def held(consumer: EventConsumer) -> set[int]:
    client = consumer._consumer
    return {tp.partition for tp in client.assignment()} if client is not None else set()
