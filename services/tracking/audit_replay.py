"""The read models folded again from the archive (`POST /v1/audit/replay`): compared with
the live ones and, on request, made equal to them.

The fold is `history.Fold`, fed the archive page by page in a worker thread (the event loop
stays free); the views are then compared with the live ones as they are paged in. A large
archive that is only reported on is folded and compared one share of the requests per
process (`adapters.parallel_fold`), each answering with figures only.
Applying takes the archive's writer lock first, so that no event is projected meanwhile,
stages the rebuilt rows and deadlines and writes only what differs (`adapters.rebuild`).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.adapters.driver import consume_in_thread
from services.tracking.adapters.parallel_fold import (
    PARALLEL_FROM,
    in_shares,
    summarize_in_shares,
)
from services.tracking.adapters.rebuild import (
    Rebuild,
    deadline_records,
    live_views,
    request_record,
)
from services.tracking.domain.deadline_plan import plan_deadlines
from services.tracking.domain.history import Fold
from services.tracking.domain.replay_summary import ReplaySummary, differing
from services.tracking.domain.view import RequestView
from shared.db import UnitOfWork

_STAGING_BATCH = 5000


async def replay(
    uow: UnitOfWork,
    *,
    until_position: int | None = None,
    as_of: datetime | None = None,
    apply: bool = False,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
) -> dict[str, Any]:
    """Rebuild every request's view from the archive (whole, or up to a position or a
    moment); a whole replay is compared with the live read model. With `apply` (whole
    replay only) the live read models, the views and the deadlines, are made equal to the
    rebuilt ones, with no event projected meanwhile."""
    whole = until_position is None and as_of is None
    written: dict[str, int] = {}
    with _fewer_collections():
        async with uow:
            store = ArchiveStore(uow.session)
            last = await in_shares(uow.session, until_position, workers, parallel_from)
            if last is not None and not apply:
                summary = await summarize_in_shares(
                    uow.session, at=as_of, last=last, compare=whole, workers=workers
                )
            else:
                if apply and whole:
                    await store.lock()
                fold = Fold(at=as_of, position=until_position, trusted=True)
                await store.consume(fold.feed, until_position=until_position)
                found = None
                if whole:
                    live = live_views(uow.session)
                    found = await consume_in_thread(live, lambda p: differing(fold.views, p))
                if apply and whole:
                    rebuild = Rebuild(uow.session)
                    await rebuild.begin()
                    await _stage(rebuild, list(fold.views.values()))
                    written = await rebuild.merge()
                    await uow.commit()
                summary = ReplaySummary.of(fold.result(), found)
    return {
        "events_replayed": summary.events_applied,
        "requests": summary.requests,
        "by_status": summary.by_status,
        "unreadable": [{"position": p, "reason": why} for p, why in summary.unreadable],
        "compared_with_live": whole,
        "equal_to_live": summary.differing_count == 0 if whole else None,
        "differing_count": summary.differing_count if whole else None,
        "differing_requests": list(summary.differing_requests),
        "applied": apply and whole,
        "rows_changed": written,
    }


async def _stage(rebuild: Rebuild, views: list[RequestView]) -> None:
    """Copy the rebuilt rows and deadlines to the staging tables; each batch is built (its
    deadlines planned) in a worker thread while the batch before it is being copied."""
    batches = [views[i : i + _STAGING_BATCH] for i in range(0, len(views), _STAGING_BATCH)]

    def build(index: int) -> asyncio.Future[_Rows] | None:
        if index >= len(batches):
            return None
        return asyncio.ensure_future(asyncio.to_thread(_rows, batches[index]))

    pending = build(0)
    for index in range(len(batches)):
        assert pending is not None
        request_rows, deadline_rows = await pending
        pending = build(index + 1)
        await rebuild.stage_requests(request_rows)
        await rebuild.stage_deadlines(deadline_rows)


_Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _rows(views: list[RequestView]) -> _Rows:
    request_rows: list[tuple[Any, ...]] = []
    deadline_rows: list[tuple[Any, ...]] = []
    for view in views:
        planned = plan_deadlines(view)
        request_rows.append(request_record(view, planned))
        deadline_rows.extend(deadline_records(planned))
    return request_rows, deadline_rows


_collections = threading.Lock()
_replays_running = 0
_default_threshold = gc.get_threshold()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """While a replay runs, the young generation is collected every 50,000 allocations
    instead of 700. The fold allocates a hundred objects an event and keeps the views: at
    the default, the collector ran every few events and took a quarter of the replay's
    time (measured: docs/benchmarks/tracking.md). The last replay to end restores it."""
    global _replays_running, _default_threshold
    with _collections:
        if _replays_running == 0:
            _default_threshold = gc.get_threshold()
            gc.set_threshold(50_000, *_default_threshold[1:])
        _replays_running += 1
    try:
        yield
    finally:
        with _collections:
            _replays_running -= 1
            if _replays_running == 0:
                gc.set_threshold(*_default_threshold)
