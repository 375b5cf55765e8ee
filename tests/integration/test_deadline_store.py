"""tracking's deadlines brought to each new plan on the real PostgreSQL: what is no longer
planned goes, what changed is changed, and what stayed the same is not written again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.tracking.adapters.deadline_store import DeadlineStore
from services.tracking.domain.deadlines import Deadline
from shared.db import create_engine, session_factory
from tests.support.infra import fresh_database

pytestmark = pytest.mark.integration

RECEIVED = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(await fresh_database("tracking"))
    yield session_factory(engine)
    await engine.dispose()


def deadline(request_id: str, kind: str, days: int, *, met: bool = False) -> Deadline:
    due = RECEIVED + timedelta(days=days)
    return Deadline(
        id=f"{request_id}:{kind}",
        request_id=request_id,
        kind=kind,
        due=due,
        due_soon_at=due - timedelta(days=2),
        basis="received",
        rule_id=f"rule-{kind}",
        confirmed=True,
        satisfied_at=RECEIVED if met else None,
    )


async def plan(
    sessions: async_sessionmaker[AsyncSession], planned: dict[str, list[Deadline]]
) -> None:
    async with sessions() as session, session.begin():
        await DeadlineStore(session).replace_all(planned)


async def stored(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[object, ...]]:
    """Each deadline's fields, and the transaction that last wrote its row (`xmin`)."""
    async with sessions() as session:
        rows = await session.execute(
            sa.text("SELECT deadline_id, due, met, xmin::text AS written FROM deadlines")
        )
        return {row.deadline_id: (row.due, row.met, row.written) for row in rows}


async def test_each_plan_leaves_exactly_its_deadlines_and_rewrites_only_what_changed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await plan(
        sessions,
        {
            "r1": [deadline("r1", "routing", 3), deadline("r1", "execution", 30)],
            "r2": [deadline("r2", "routing", 3)],
            "r3": [deadline("r3", "routing", 3)],
        },
    )
    before = await stored(sessions)

    # r1 was routed: its routing deadline is met, execution unchanged, a reply one appears;
    # r2 no longer has any; r3 is not in this batch at all.
    await plan(
        sessions,
        {
            "r1": [
                deadline("r1", "routing", 3, met=True),
                deadline("r1", "execution", 30),
                deadline("r1", "reply", 60),
            ],
            "r2": [],
        },
    )
    after = await stored(sessions)

    assert set(after) == {"r1:routing", "r1:execution", "r1:reply", "r3:routing"}
    assert after["r1:routing"][1] is True
    assert after["r1:routing"][2] != before["r1:routing"][2]  # changed: written again
    assert after["r1:execution"] == before["r1:execution"]  # the same: left as it was
    assert after["r3:routing"] == before["r3:routing"]  # not in the batch: untouched
    assert after["r1:reply"][0] == RECEIVED + timedelta(days=60)
