"""The fold of a large archive on every core.

Folding is CPU-bound Python, one core's worth at a time: a replay of a million events
would leave the other cores idle. Requests are independent of each other, so the archive is
split by request (a hash of the subject) into one share per worker process; each process
reads its share in archive order, so that each request's events keep their order, folds it
with the same `Fold`, and sends its views back. The union of the shares is the fold of the
whole archive, event for event.

Below `PARALLEL_FROM` events, starting processes costs more than it saves: the fold runs
in this process, as it always did.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.domain.history import Fold
from services.tracking.domain.view import RequestView
from shared.db import create_engine, session_factory

PARALLEL_FROM = 200_000

_Share = tuple[dict[str, RequestView], int, list[tuple[int, str]]]


async def fold_archive(
    session: AsyncSession,
    fold: Fold,
    *,
    until_position: int | None,
    workers: int,
    parallel_from: int = PARALLEL_FROM,
) -> None:
    """Feed `fold` the archive up to `until_position` (its end when None), on `workers`
    processes when it is large enough to gain from them."""
    store = ArchiveStore(session)
    head, _ = await store.head()
    last = min(head, until_position) if until_position is not None else head
    if workers < 2 or last < parallel_from:
        await store.consume(fold.feed, until_position=until_position)
        return
    # The workers read in their own transactions: bound them by the head seen here, so that
    # events appended meanwhile are in no share rather than in some.
    assert isinstance(session.bind, AsyncEngine)
    url = session.bind.url.render_as_string(hide_password=False)
    loop = asyncio.get_running_loop()
    # spawn, not fork: this process runs an event loop and threads that a fork would copy
    # mid-flight.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        shares = await asyncio.gather(
            *(
                loop.run_in_executor(pool, _fold_share, url, (k, workers), fold.at, last)
                for k in range(workers)
            )
        )
    for views, applied, unreadable in shares:
        fold.views.update(views)
        fold.applied += applied
        fold.unreadable.extend(unreadable)
    fold.unreadable.sort()
    fold.complete = until_position is not None and head > until_position


def _fold_share(url: str, share: tuple[int, int], at: datetime | None, position: int) -> _Share:
    """In a worker process: the fold of one share of the archive."""
    # The fold allocates a hundred objects an event and keeps the views (see
    # `audit_replay._fewer_collections`).
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    return asyncio.run(_fold(url, share, at, position))


async def _fold(url: str, share: tuple[int, int], at: datetime | None, position: int) -> _Share:
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            fold = Fold(at=at, position=position, trusted=True)
            await ArchiveStore(session).consume(fold.feed, until_position=position, share=share)
            return fold.views, fold.applied, fold.unreadable
    finally:
        await engine.dispose()
