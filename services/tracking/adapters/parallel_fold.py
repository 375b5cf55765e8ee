"""The fold of a large archive on every core, for a replay that reports.

Folding is CPU-bound Python, one core's worth at a time: a replay of a million events
would leave the other cores idle. Requests are independent of each other, so the archive is
split by request (a hash of the subject) into one share per worker process; each process
reads its share in archive order, so that each request's events keep their order, folds it
with the same `Fold`, compares its views with the live ones of the same share, and sends
back figures only (`ReplaySummary`): the shares' figures add up to the whole fold's.

The views themselves stay where they were folded: sending them back (a quarter of a
gigabyte at a million events) cost as much as folding them, so a replay that writes the
rebuilt read models back folds in one process.

Below `PARALLEL_FROM` events, starting processes costs more than it saves: the fold runs
in the service's process.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.adapters.rebuild import live_views
from services.tracking.domain.history import Fold
from services.tracking.domain.replay_summary import Comparison, ReplaySummary
from shared.db import create_engine, session_factory

PARALLEL_FROM = 200_000


async def in_shares(
    session: AsyncSession, until_position: int | None, workers: int, parallel_from: int
) -> int | None:
    """The last position to fold when the archive is worth folding in `workers` shares,
    else None."""
    head, _ = await ArchiveStore(session).head()
    last = min(head, until_position) if until_position is not None else head
    return last if workers > 1 and last >= parallel_from else None


async def summarize_in_shares(
    session: AsyncSession, *, at: datetime | None, last: int, compare: bool, workers: int
) -> ReplaySummary:
    """The summary of the fold up to position `last` (see `Fold` for `at`), folded, and
    compared with the live read model when `compare`, one share of the requests per
    process."""
    # The workers read in their own transactions: bounded by `last`, the head seen before,
    # events appended meanwhile are in no share rather than in some.
    assert isinstance(session.bind, AsyncEngine)
    url = session.bind.url.render_as_string(hide_password=False)
    loop = asyncio.get_running_loop()
    # spawn, not fork: this process runs an event loop and threads that a fork would copy
    # mid-flight.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        summaries = await asyncio.gather(
            *(
                loop.run_in_executor(pool, _summarize_share, url, (k, workers), at, last, compare)
                for k in range(workers)
            )
        )
    return ReplaySummary.merged(summaries)


def _summarize_share(
    url: str, share: tuple[int, int], at: datetime | None, last: int, compare: bool
) -> ReplaySummary:
    """In a worker process: the fold of one share, summarised."""
    # The fold allocates a hundred objects an event and keeps the views (see
    # `audit_replay._fewer_collections`).
    gc.set_threshold(50_000, *gc.get_threshold()[1:])
    return asyncio.run(_summarize(url, share, at, last, compare))


async def _summarize(
    url: str, share: tuple[int, int], at: datetime | None, last: int, compare: bool
) -> ReplaySummary:
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            # Page by page on the event loop, not in a worker thread as in the service:
            # this process does nothing else, and a thread would only contend with the
            # loop for the interpreter's lock (a third more CPU, measured).
            fold = Fold(at=at, position=last, trusted=True)
            async for page in ArchiveStore(session).entries(until_position=last, share=share):
                fold.feed(page)
            found = None
            if compare:
                comparison = Comparison(fold.views)
                async for views in live_views(session, share=share):
                    comparison.feed(views)
                found = comparison.result()
            return ReplaySummary.of(fold.result(), found)
    finally:
        await engine.dispose()
