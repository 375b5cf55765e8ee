"""The live event stream: every event tracking archives, as server-sent events, to the
department's dashboards.

Each subscriber looks at the archive by position once a `poll` interval and sends what is
new. Polling the archive, rather than hearing from this process's consumer, is deliberate:
instances of tracking share the topic's partitions, so one process's consumer sees only
some requests' events, while the archive (one table, one chain) has them all, in order. It
also makes resuming exact: an event's SSE id is its archive position, and a client that
reconnects with `Last-Event-ID` gets everything after it, missed or not. The cost is one
query on the archive's primary key per subscriber and interval, and up to `poll` of delay.

    retry: 3000            the first message: when to reconnect, and (as `id`) the position
    id: 1234               each event: its archive position ...
    data: {...}            ... and what it is (`EventFeed.after`)
    : heartbeat            after `heartbeat` of silence, so proxies keep the line open

A connection ends after `max_seconds`; the client reconnects from its last id and shows
its token again, so that a token that expired or was withdrawn stops the stream soon.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shared.problems import ProblemError

EVENT_STREAM = "text/event-stream"
# How long a client waits before reconnecting after the stream ends or breaks.
RECONNECT_MILLISECONDS = 3000

# The entries after a position (a page at most), oldest first, each with its `position`.
Look = Callable[[int], Awaitable[list[dict[str, Any]]]]


class TooManySubscribersError(ProblemError):
    status = 503
    type_ = "too-many-subscribers"
    title = "Too many subscribers"


@dataclass(frozen=True)
class StreamTiming:
    poll: float
    heartbeat: float
    max_seconds: float


class Subscribers:
    """The bound on simultaneous streams of one process: each holds a connection to the
    client and, once a `poll`, one to the database."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def join(self) -> None:
        if self.count >= self.limit:
            raise TooManySubscribersError(
                f"this instance serves at most {self.limit} live streams; retry shortly"
            )
        self.count += 1

    def leave(self) -> None:
        self.count = max(0, self.count - 1)


class Closing:
    """Whether the process was asked to stop, so that open streams end within a `poll`.

    A stream never finishes by itself, and uvicorn waits for open responses before it tells
    the application anything (the lifespan's shutdown comes after), so without this every
    stop with a dashboard open would last uvicorn's whole graceful timeout. The flag is set
    by a handler chained in front of uvicorn's own SIGTERM and SIGINT handlers, which then
    run as before; a handler that is not uvicorn's (a test process) is left alone."""

    def __init__(self) -> None:
        self.now = False
        self._watching = False

    def watch(self) -> None:
        """Chain the handlers (once; signals are handled on the main thread only)."""
        if self._watching or threading.current_thread() is not threading.main_thread():
            return
        self._watching = True
        for number in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(number)
            owner = getattr(previous, "__self__", None)
            if callable(previous) and type(owner).__module__.startswith("uvicorn"):
                signal.signal(number, self._chained(previous))

    def _chained(self, previous: Callable[[int, Any], Any]) -> Callable[[int, Any], None]:
        def handle(number: int, frame: Any) -> None:
            self.now = True
            previous(number, frame)

        return handle


def start_position(after: int | None, last_event_id: str | None) -> int | None:
    """Where a stream starts: after the client's last event id, else after `after`, else
    (None) after the archive's head, that is with the next new event."""
    if last_event_id is not None and last_event_id.strip():
        value = last_event_id.strip()
        if not value.isdigit() or len(value) > 18:
            raise ValueError("Last-Event-ID is the archive position of the last event seen")
        return int(value)
    return after


def message(entry: dict[str, Any]) -> bytes:
    """One SSE message; orjson never writes a newline, so `data` stays one line."""
    return b"id: %d\ndata: %s\n\n" % (entry["position"], orjson.dumps(entry))


async def event_stream(
    position: int,
    look: Look,
    timing: StreamTiming,
    *,
    disconnected: Callable[[], Awaitable[bool]],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[bytes]:
    """The stream's bytes from `position` on, until `timing.max_seconds` pass or the client
    goes away."""
    yield b"retry: %d\nid: %d\n\n" % (RECONNECT_MILLISECONDS, position)
    ends = clock() + timing.max_seconds
    quiet_since = clock()
    while clock() < ends and not await disconnected():
        entries = await look(position)
        for entry in entries:
            yield message(entry)
            position = entry["position"]
        if entries:
            quiet_since = clock()
            continue  # a catch-up goes on at once, a page at a time
        if clock() - quiet_since >= timing.heartbeat:
            yield b": heartbeat\n\n"
            quiet_since = clock()
        await sleep(timing.poll)
