"""When tracking showed what: each request's events, and its status, as they became visible
in tracking, followed for the whole run.

tracking writes an event's archive entry and the request's view in one transaction, so the
moment an entry can be read is the moment `GET /v1/requests/{id}` says so too. Two ways to
see it:

- `ArchiveFollower` (the default) reads the archive from tracking's database, every 5 ms,
  on a connection of its own: the moment of the commit, give or take 5 ms, at no cost to
  tracking (a few tens of microseconds of PostgreSQL a look);
- `StreamFollower` follows tracking's live event stream (GET /v1/events/stream), as the
  dashboard does. The stream looks at the archive once a `TRACKING_STREAM_POLL_SECONDS`
  (the benchmark sets 10 ms in this mode), and each look costs tracking itself about a
  millisecond of CPU: 0.1 of a core at 10 ms, taken from the service being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict

import asyncpg
import orjson

from bench.http_client import HttpError, event_stream


class Follower:
    """Keeps, per request, when each event type (and each status) was first seen."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], float] = {}
        self.counts: dict[str, int] = defaultdict(int)
        self._waiters: dict[tuple[str, str], list[asyncio.Future[float]]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wait(self, request_id: str, what: str) -> asyncio.Future[float]:
        """When `what` (an event type, or `status:<status>`) was first seen for the request."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        at = self.seen.get((request_id, what))
        if at is not None:
            future.set_result(at)
        else:
            self._waiters[(request_id, what)].append(future)
        return future

    async def all_seen(self, request_ids: list[str], what: str, timeout: float) -> dict[str, float]:
        """When `what` was first seen for each request (those seen within `timeout`)."""
        futures = {request_id: self.wait(request_id, what) for request_id in request_ids}
        if futures:
            await asyncio.wait(futures.values(), timeout=timeout)
        return {r: f.result() for r, f in futures.items() if f.done() and not f.cancelled()}

    async def _run(self) -> None:
        raise NotImplementedError

    def _note(self, request_id: str, kind: str, status: str | None, at: float) -> None:
        self.counts[kind] += 1
        for what in (kind, f"status:{status}"):
            key = (request_id, what)
            if key in self.seen:
                continue
            self.seen[key] = at
            for future in self._waiters.pop(key, ()):
                if not future.done():
                    future.set_result(at)


class ArchiveFollower(Follower):
    """Reads tracking's archive, with each entry's request status now, every `every` s."""

    def __init__(self, database_url: str, every: float = 0.005) -> None:
        super().__init__()
        self._url, self._every = database_url, every

    async def _run(self) -> None:
        connection = await asyncpg.connect(self._url)
        try:
            # Read by the keys, whatever PostgreSQL knows of the tables: the statement's
            # plan is made once and kept, and a plan kept from the first looks, made while
            # `requests` and `archive` were a few pages, scanned them whole, once for every
            # entry seen (measured: 900 scans and 310,000 rows read in 23 s at 25
            # requests/s). Planning it afresh at every look instead cost 0.2 ms of
            # PostgreSQL's CPU 200 times a second, a twentieth of a core counted against
            # the system and taken from it (docs/benchmarks/system.md, 62).
            await connection.execute("SET enable_seqscan = off")
            look = await connection.prepare(
                # The status looked up per entry, by the requests' key; the next thousand
                # positions said as a range (they run without gaps): as a join with
                # `position > $1` alone, it scanned and sorted the whole archive at every
                # look (1.1-1.3 ms of PostgreSQL's CPU 130 times a second).
                "SELECT a.position, a.type, a.subject, "
                "(SELECT r.status FROM requests r WHERE r.request_id = a.subject) AS status "
                "FROM archive a WHERE a.position > $1 AND a.position <= $1 + 1000 "
                "ORDER BY a.position"
            )
            position = 0
            self._connected.set()
            while True:
                rows = await look.fetch(position)
                at = time.perf_counter()
                for row in rows:
                    self._note(row["subject"], row["type"], row["status"], at)
                    position = row["position"]
                if len(rows) < 1000:
                    await asyncio.sleep(self._every)
        finally:
            await connection.close()


class StreamFollower(Follower):
    """Follows tracking's live event stream, reconnecting from the last id it saw."""

    def __init__(self, host: str, port: int, token: str) -> None:
        super().__init__()
        self._host, self._port, self._token = host, port, token

    async def _run(self) -> None:
        last_id: str | None = None
        while True:
            try:
                async for event_id, data in event_stream(
                    self._host, self._port, "/v1/events/stream", self._token, last_id
                ):
                    self._connected.set()
                    if event_id is not None:
                        last_id = event_id
                    if data:
                        entry = orjson.loads(data)
                        self._note(
                            str(entry.get("request_id")),
                            str(entry.get("type")),
                            entry.get("status"),
                            time.perf_counter(),
                        )
            except (HttpError, OSError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.2)  # reconnects from the last id: nothing is missed
