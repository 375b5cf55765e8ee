"""The statistics on the real PostgreSQL: the running tallies follow every change of the read
model, whichever way it is written (the projector, a replay), and PostgreSQL buckets
durations exactly as the domain reads them back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.tracking import audit, handlers
from services.tracking.adapters.tables import requests
from services.tracking.domain.durations import bucket_of
from shared.db import UnitOfWork, create_engine, session_factory
from tests.support.infra import fresh_database
from tests.support.tracking_events import closed, executed, project, received, routed

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await fresh_database("tracking"), pool_size=2)
    yield engine
    await engine.dispose()


async def stats(engine: AsyncEngine) -> dict:
    return await handlers.get_stats(UnitOfWork(session_factory(engine)))


async def test_the_statistics_follow_each_request_through_its_lifecycle(
    engine: AsyncEngine,
) -> None:
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    await project(
        engine,
        received(first, MONDAY, "AT", "corruption"),
        received(second, MONDAY + timedelta(days=1), "AT", "cybercrime"),
        received(third, MONDAY + timedelta(days=8), "DE", "corruption"),
    )
    before = await stats(engine)
    assert before["total"] == 3
    assert before["by_status"] == {"received": 3}
    assert before["by_country"] == {"AT": 2, "DE": 1}
    assert before["by_category"] == {"corruption": 2, "cybercrime": 1}
    assert before["intake_per_week"] == [
        {"week": "2026-03-02", "received": 2},
        {"week": "2026-03-09", "received": 1},
    ]
    assert before["stage_hours"]["received_to_routed"] == {"count": 0, "median": None, "p90": None}

    routed_first, assignment = routed(first, MONDAY + timedelta(hours=2), "vjt-subotica")
    routed_second, _ = routed(second, MONDAY + timedelta(days=1, hours=10), "vjt-novi-sad")
    await project(engine, routed_first, routed_second)
    await project(
        engine,
        executed(first, assignment, MONDAY + timedelta(days=5)),
        closed(first, MONDAY + timedelta(days=6)),
    )

    after = await stats(engine)
    assert after["total"] == 3
    assert after["by_status"] == {"received": 1, "routed": 1, "closed": 1}
    assert after["by_office"] == {"vjt-subotica": 1, "vjt-novi-sad": 1}
    stage = after["stage_hours"]["received_to_routed"]
    assert stage["count"] == 2
    # Interpolated between the two, as percentile_cont does.
    assert stage["median"] == pytest.approx(6.0, rel=0.01)
    assert stage["p90"] == pytest.approx(9.2, rel=0.01)
    assert after["stage_hours"]["received_to_closed"]["count"] == 1
    assert after["stage_hours"]["received_to_closed"]["median"] == pytest.approx(144, rel=0.01)

    # A replay rewrites the read model in bulk; the tallies come out the same.
    async with engine.begin() as connection:
        await connection.execute(sa.delete(requests))
    emptied = await stats(engine)
    assert emptied["total"] == 0 and emptied["by_status"] == {} and emptied["by_office"] == {}
    replayed = await audit.replay(UnitOfWork(session_factory(engine)), apply=True)
    assert replayed["applied"] is True
    assert await stats(engine) == after


async def test_postgresql_puts_each_duration_in_the_bucket_the_domain_expects(
    engine: AsyncEngine,
) -> None:
    durations = [-5.0, 0.0, 59.9, 60.0, 61.0, 3599.0, 3600.0, 86_400.0, 7.3e6, 3.1e8]
    durations += [60 * 1.37**k + 0.5 for k in range(40)]
    async with engine.connect() as connection:
        buckets = [
            await connection.scalar(sa.text("SELECT duration_bucket(:s)"), {"s": seconds})
            for seconds in durations
        ]
    assert buckets == [bucket_of(seconds) for seconds in durations]
