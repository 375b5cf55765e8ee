"""A deadlock the code under test loses: PostgreSQL breaks it by aborting one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa


class Deadlock:
    """Two advisory locks taken in opposite orders, `times` times over: by a rival (`rival()`,
    run as a task) and by the transaction under test (`lose(session)`, which raises the
    deadlock). The side under test has its wait checked for a deadlock first (after 100 ms,
    the rival's after 10 s), so it is always the one aborted."""

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
                await asyncio.sleep(0.05)  # the other side waits for lock 2 by now
                await session.execute(sa.select(sa.func.pg_advisory_xact_lock(1)))
                self._rival_holds.clear()

    async def lose(self, session: Any) -> None:
        """In the transaction under test: take lock 1, then wait for lock 2, which the rival
        holds while it waits for lock 1 (raises PostgreSQL's deadlock error)."""
        await self._rival_holds.wait()
        await session.execute(sa.text("SET LOCAL deadlock_timeout = '100ms'"))
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(1)))
        self._loser_holds.set()
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(2)))
