"""What an operator's alerts read, on the real PostgreSQL and broker: how much waits in an
outbox and for how long, how far a consumer is behind its partitions, and where an event's
time goes between services."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared.events.catalogue import RequestWithdrawn, new_event
from shared.kafka import make_producer
from shared.outbox import OutboxRelay
from shared.outbox_watch import outbox_watch
from tests.support.consumers import (
    count_effects,
    member,
    outbox,
    publish,
    ready,
    run_until,
    settings_for,
    withdrawal,
)
from tests.support.infra import eventually, fresh_topic

pytestmark = pytest.mark.integration


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_the_outbox_watch_says_how_many_events_wait_and_the_age_of_the_oldest(
    database: tuple[object, object],
) -> None:
    _, sessions = database
    async with sessions() as session, session.begin():  # type: ignore[operator]
        for minutes in (3, 1, 0):
            await session.execute(
                sa.insert(outbox).values(
                    event_id=f"e{minutes}",
                    key="r-1",
                    type="mla.request.withdrawn",
                    body=b"{}",
                    created_at=datetime.now(UTC) - timedelta(minutes=minutes),
                )
            )
    watch = outbox_watch(sessions, outbox, every=0.05)  # type: ignore[arg-type]
    task = asyncio.create_task(watch.run())
    try:
        await eventually(
            lambda: ready(sample("mla_outbox_pending") == 3), what="three events waiting"
        )
    finally:
        watch.stop()
        await task

    oldest = sample("mla_outbox_oldest_seconds")
    assert oldest is not None and 180 <= oldest < 240


async def test_a_consumer_says_how_far_it_is_behind_each_partition_until_it_is_not(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka, partitions=1)
    # More than a turn of the loop takes (200): it says what is left after each turn.
    await publish(kafka, topic, [withdrawal(f"r-{n}") for n in range(500)])
    settings = settings_for(kafka, topic).model_copy(
        update={"consumer_batch_size": 1, "consumer_commit_interval_ms": 100}
    )

    async def slowly(session: object, event: object, payload: object) -> None:
        await asyncio.sleep(0.002)

    consumer = member(sessions, settings, handler=slowly)
    behind: list[float] = []

    async def watch() -> None:
        while True:
            value = sample("mla_consumer_lag_messages", partition="0")
            if value is not None:
                behind.append(value)
            await asyncio.sleep(0.05)

    watching = asyncio.create_task(watch())
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: ready(bool(behind) and max(behind) > 0), what="a lag reported")
        await eventually(lambda: ready(bool(behind) and behind[-1] == 0), what="caught up")
    finally:
        consumer.stop()
        watching.cancel()
        await asyncio.wait_for(task, 30)

    assert 0 < max(behind) <= 300  # what the first turn left


async def test_an_event_says_how_long_it_waited_to_be_published_and_how_old_it_was_when_handled(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka, partitions=1)
    # Three events stored two minutes ago: the broker was out of reach since, say.
    async with sessions() as session, session.begin():  # type: ignore[operator]
        for n in range(3):
            await session.execute(
                sa.insert(outbox).values(
                    event_id=f"late-{n}",
                    key=f"r-{n}",
                    type="mla.request.withdrawn",
                    body=withdrawal(f"r-{n}"),
                    created_at=datetime.now(UTC) - timedelta(minutes=2),
                )
            )
    published = sample("mla_outbox_publish_delay_seconds_count") or 0.0
    delayed = sample("mla_outbox_publish_delay_seconds_sum") or 0.0
    settings = settings_for(kafka, topic)
    relay = OutboxRelay(
        sessions=sessions,  # type: ignore[arg-type]
        outbox=outbox,
        settings=settings,
        producer_factory=lambda: make_producer(kafka, "test"),
        service="test",
    )
    task = asyncio.create_task(relay.run())
    try:
        await eventually(
            lambda: ready(sample("mla_outbox_publish_delay_seconds_count") == published + 3),
            what="three events published",
        )
    finally:
        relay.stop()
        await asyncio.wait_for(task, 20)
    waited = (sample("mla_outbox_publish_delay_seconds_sum") or 0.0) - delayed
    assert 3 * 120 <= waited < 3 * 180

    # Consumed: each event is as old as its time says, the copy of one is not counted again.
    type_ = "mla.request.withdrawn"
    handled = sample("mla_event_age_seconds_count", type=type_) or 0.0
    aged = sample("mla_event_age_seconds_sum", type=type_) or 0.0
    old = [
        new_event(RequestWithdrawn(request_id=f"q-{n}"), source="/mla/test").model_copy(
            update={"time": datetime.now(UTC) - timedelta(seconds=30)}
        )
        for n in range(2)
    ]
    await publish(kafka, topic, [event.to_bytes() for event in (*old, old[0])])
    consumer = member(sessions, settings)
    # The three published above and the two here: five effects, the copy none.
    await run_until(consumer, lambda: _effects(sessions, 5), "five events handled")

    assert sample("mla_event_age_seconds_count", type=type_) == handled + 5
    age = (sample("mla_event_age_seconds_sum", type=type_) or 0.0) - aged
    assert 2 * 30 <= age < 2 * 30 + 3 * 60  # the relay's three were a few seconds old


async def _effects(sessions: object, n: int) -> bool:
    return await count_effects(sessions) == n
