"""What an operator's alerts read, on the real PostgreSQL and broker: how much waits in an
outbox and for how long, and how far a consumer is behind its partitions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared.outbox_watch import outbox_watch
from tests.support.consumers import member, outbox, publish, ready, settings_for, withdrawal
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
