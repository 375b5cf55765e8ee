"""A deadlock the code under test loses: PostgreSQL breaks it by aborting one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from tests.support.infra import eventually

# Whether a session of this database waits for advisory lock 1 (a key of one bigint is kept
# as `classid` 0 and `objid` the key, `objsubid` 1).
_RIVAL_WAITS = sa.text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    "AND classid = 0 AND objid = 1 AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)


class Deadlock:
    """Two advisory locks taken in opposite orders, `times` times over: by a rival (`rival()`,
    run as a task) and by the transaction under test (`lose(session)`, which raises the
    deadlock). PostgreSQL looks for a deadlock once per wait, `deadlock_timeout` after it
    began, and aborts the transaction whose look finds it. The side under test looks after
    100 ms, the rival after 10 s, and the side under test begins its wait only once the
    rival waits: the cycle is there when its look comes, however slow the machine, so it
    is always the one aborted."""

    def __init__(self, sessions: Any, times: int) -> None:
        self._sessions = sessions
        self.times = times
        self._rival_holds, self._loser_holds = asyncio.Event(), asyncio.Event()

    async def rival(self) -> None:
        for _ in range(self.times):
            async with self._sessions() as session, session.begin():
                await session.execute(sa.text("SET LOCAL deadlock_timeout = '10s'"))
                await session.execute(sa.select(sa.func.pg_advisory_xact_lock(2)))
                self._rival_holds.set()
                await self._loser_holds.wait()
                self._loser_holds.clear()
                await session.execute(sa.select(sa.func.pg_advisory_xact_lock(1)))

    async def lose(self, session: Any) -> None:
        """In the transaction under test: take lock 1, then, once the rival waits for it,
        wait for lock 2, which the rival holds (raises PostgreSQL's deadlock error)."""
        await self._rival_holds.wait()
        self._rival_holds.clear()  # this round's: a retry waits for the rival's next one
        await session.execute(sa.text("SET LOCAL deadlock_timeout = '100ms'"))
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(1)))
        self._loser_holds.set()
        await eventually(
            lambda: session.scalar(_RIVAL_WAITS), interval=0.005, what="the rival waits"
        )
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(2)))
