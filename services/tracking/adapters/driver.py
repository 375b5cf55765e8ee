"""The bulk paths: CPU-bound work over pages of rows (read on the session's asyncpg
connection, `shared.db.driver`, without building a SQLAlchemy row for each) done in a
worker thread, so that the event loop stays free to answer health checks
and keep the consumer's heartbeat while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Future
from typing import TypeVar

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


async def consume_in_thread(
    pages: AsyncGenerator[list[_Item], None], work: Callable[[Iterator[_Item]], _Result]
) -> _Result:
    """`work(items)` run in a worker thread over the items of `pages`, each page fetched
    (on the event loop) while the one before it is worked on; `work` may stop early."""
    loop = asyncio.get_running_loop()
    pending: list[Future[list[_Item] | None]] = []

    async def next_page() -> list[_Item] | None:
        return await anext(pages, None)

    def fetch() -> None:
        pending.append(asyncio.run_coroutine_threadsafe(next_page(), loop))

    def items() -> Iterator[_Item]:
        fetch()
        while (page := pending[-1].result()) is not None:
            fetch()
            yield from page

    try:
        return await asyncio.to_thread(work, items())
    finally:
        if pending:  # a page still on its way must arrive before the pages are closed
            await asyncio.wait([asyncio.wrap_future(pending[-1])])
        await pages.aclose()
