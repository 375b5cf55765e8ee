"""The consumer loop on the real broker and PostgreSQL: once in effect, poison aside."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from shared.events.catalogue import CLOSED, Payload, RequestWithdrawn, new_event
from shared.events.envelope import CloudEvent
from shared.eventstore import enqueue
from shared.kafka import end_offsets
from tests.support.consumers import (
    Counter,
    at_least,
    count_effects,
    effects,
    member,
    outbox,
    processed,
    publish,
    publish_to,
    read_all,
    ready,
    record_effect,
    run_until,
    settings_for,
    withdrawal,
)
from tests.support.deadlocks import Deadlock
from tests.support.infra import eventually, fresh_topic

pytestmark = pytest.mark.integration


async def test_a_message_delivered_twice_in_one_batch_has_its_effect_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    twice = withdrawal("req-twice")
    # One key, one partition: the three arrive together and are handled in one transaction.
    await publish(kafka, topic, [twice, withdrawal("req-once"), twice])
    consumer = member(sessions, settings_for(kafka, topic))
    seen = Counter()
    consumer.handling.counted = seen.wrap(consumer.handling.counted)  # type: ignore[method-assign]
    await run_until(consumer, lambda: ready(seen.duplicates >= 1), "the copy seen as one")
    assert await count_effects(sessions) == 2


async def test_events_of_no_concern_to_the_service_are_passed_over_unread_without_a_record(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    # Together in one batch, then one arriving alone (the one-at-a-time path). Their payloads
    # are incomplete: read, they would be poison; of a kind the service passes over, they are
    # not read at all.
    await publish(kafka, topic, [incomplete_closure(f"other-{n}") for n in range(2)])
    await publish(kafka, topic, [withdrawal("mine")])
    consumer = member(sessions, settings, interest=lambda kind: issubclass(kind, RequestWithdrawn))
    seen = Counter()
    consumer.handling.counted = seen.wrap(consumer.handling.counted)  # type: ignore[method-assign]
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: ready(seen.ignored == 2), what="the batch's two passed over")
        await publish(kafka, topic, [incomplete_closure("other-alone")])
        await eventually(lambda: ready(seen.ignored == 3), what="the lone one passed over")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)

    assert await count_effects(sessions) == 1
    async with sessions() as session:  # type: ignore[operator]
        recorded = await session.scalar(sa.select(sa.func.count()).select_from(processed))
    assert recorded == 1  # only the event it acted on


def incomplete_closure(request_id: str) -> bytes:
    """A closure without its outcome: a payload the catalogue refuses."""
    data = {"request_id": request_id}
    return CloudEvent.create(
        source="/mla/test", type=CLOSED, subject=request_id, data=data
    ).to_bytes()


async def test_a_malformed_message_goes_to_the_dead_letter_topic_and_the_consumer_goes_on(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    await publish(
        kafka, topic, [b"{not json", b'{"specversion": "1.0"}', withdrawal("req-after-poison")]
    )
    consumer = member(sessions, settings_for(kafka, topic))
    await run_until(consumer, lambda: at_least(sessions, 1), "the good message after the poison")

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
    await run_until(consumer, lambda: at_least(sessions, 1), "the next message handled")
    dead = await read_all(kafka, f"{topic}.dlq", expected=1)
    assert "cannot handle this one" in dict(dead[0].headers)["dlq-reason"].decode()


async def test_a_handler_that_loses_a_deadlock_is_retried_not_dead_lettered(
    kafka: str, database: tuple[object, object]
) -> None:
    """PostgreSQL breaks a deadlock by aborting one of the transactions: when it is the
    handler's, more times in a row than a failing handler is allowed, the event is still
    handled, once."""
    _, sessions = database
    topic = await fresh_topic(kafka)
    await publish(kafka, topic, [withdrawal("req-contended")])
    settings = settings_for(kafka, topic)
    deadlock = Deadlock(sessions, times=settings.handler_max_attempts + 1)
    attempts = 0

    async def takes_two_locks(session: object, event: CloudEvent, payload: Payload) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= deadlock.times:
            await deadlock.lose(session)
        await record_effect(session, event, payload)

    rivalry = asyncio.create_task(deadlock.rival())
    try:
        consumer = member(sessions, settings, handler=takes_two_locks)
        await run_until(consumer, lambda: at_least(sessions, 1), "the event handled")
        await rivalry
    finally:
        rivalry.cancel()  # still waiting, when the handler gave up before losing enough
    assert attempts == deadlock.times + 1
    assert await count_effects(sessions) == 1
    assert await dead_letters(kafka, f"{topic}.dlq") == 0


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
    await run_until(consumer, lambda: at_least(sessions, 9), "the nine handled")

    partitions_in = {}
    for request_id, txid in transaction_of.items():
        partitions_in.setdefault(txid, set()).add(request_id.split("-")[1])
    assert max(len(p) for p in partitions_in.values()) > 1, partitions_in
    # Each partition's events were still handled in their order.
    for p in (0, 1, 2):
        order = [transaction_of[f"req-{p}-{n}"] for n in range(3)]
        assert order == sorted(order), order


async def test_an_event_larger_than_a_fetch_still_comes_and_so_does_what_follows_it(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    # A fetch brings a quarter of a mebibyte, so that a consumer behind holds little of each
    # partition; the broker hands an event larger than that alone, at the head of a fetch.
    large = new_event(
        RequestWithdrawn(request_id="req-large", reason="x" * 900_000), source="/mla/test"
    ).to_bytes()
    assert len(large) > 3 * settings.consumer_fetch_max_bytes
    await publish(kafka, topic, [withdrawal("req-before"), large, withdrawal("req-after")])

    await run_until(member(sessions, settings), lambda: at_least(sessions, 3), "all three")
    async with sessions() as session:  # type: ignore[operator]
        handled = set(await session.scalars(sa.select(effects.c.request_id)))
    assert handled == {"req-before", "req-large", "req-after"}
    assert await dead_letters(kafka, f"{topic}.dlq") == 0


async def dead_letters(kafka: str, topic: str) -> int:
    """How many messages the topic holds (none when it was never created)."""
    return sum((await end_offsets(kafka, topic)).values())


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
        await eventually(lambda: at_least(sessions, 2), what="two handled")
        assert wakes == [], "nothing was put on the outbox: the relay has nothing to do"
        await publish(kafka, topic, [withdrawal("publishes-1")])
        await eventually(lambda: at_least(sessions, 3), what="the third handled")
        await eventually(lambda: ready(wakes == [1]), what="the relay woken once")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def test_a_consumer_off_the_path_takes_what_arrived_while_it_gathered_at_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic).model_copy(update={"consumer_gather_ms": 600})
    consumer = member(sessions, settings)
    task = asyncio.create_task(consumer.run())
    try:
        await publish(kafka, topic, [withdrawal("first")])
        await eventually(lambda: at_least(sessions, 1), what="the first event handled")
        # Eight more, one every 40 ms: fetched as they came, they would be eight turns. One
        # producer sends them all: one started for each took longer than the gathering on a
        # slow machine, and the eight came as four batches.
        producer = AIOKafkaProducer(bootstrap_servers=kafka)
        await producer.start()
        try:
            for n in range(8):
                await producer.send_and_wait(
                    topic, value=withdrawal(f"next-{n}"), key=f"k{n}".encode()
                )
                await asyncio.sleep(0.04)
        finally:
            await producer.stop()
        await eventually(lambda: at_least(sessions, 9), what="all nine handled")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)

    async with sessions() as session:  # type: ignore[operator]
        # A transaction's `now()` is its start: one time for every event it recorded.
        transactions = await session.scalar(
            sa.select(sa.func.count(sa.distinct(processed.c.processed_at)))
        )
    assert transactions <= 3, f"{transactions} transactions for nine events"


async def test_a_consumer_that_is_gathering_stops_at_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic).model_copy(update={"consumer_gather_ms": 60_000})
    consumer = member(sessions, settings)
    task = asyncio.create_task(consumer.run())
    await publish(kafka, topic, [withdrawal("only")])
    await eventually(lambda: at_least(sessions, 1), what="the event handled")

    consumer.stop()

    await asyncio.wait_for(task, 10)  # not the minute it would gather for
