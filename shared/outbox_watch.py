"""How much waits in a service's outbox: the gauges an operator is alerted by when events
stop reaching the broker (`mla_outbox_pending`, `mla_outbox_oldest_seconds`;
deploy/k8s/monitoring). The relay cannot say it itself: while the broker is out it is
waiting, and it never counts what it has not taken."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import is_transient, quoted
from shared.metrics import OUTBOX_OLDEST_SECONDS, OUTBOX_PENDING
from shared.periodic import Periodic

# Often enough for an alert that waits minutes; the outbox is small but for an outage.
WATCH_SECONDS = 10.0


def outbox_watch(
    sessions: async_sessionmaker[AsyncSession], outbox: sa.Table, every: float = WATCH_SECONDS
) -> Periodic:
    """A worker that looks at the outbox every `every` seconds and sets the gauges."""
    statement = sa.text(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
        f"FROM {quoted(outbox)}"
    )

    async def look() -> None:
        try:
            async with sessions() as session:
                pending, oldest = (await session.execute(statement)).one()
        except Exception as exc:
            if is_transient(exc):
                return  # the database is out: the readiness probe says so, not this gauge
            raise
        OUTBOX_PENDING.set(pending)
        OUTBOX_OLDEST_SECONDS.set(float(oldest))

    return Periodic("outbox-watch", every, look)
