"""The live event stream's rules, without a database or a network: where it starts, what
each message looks like, heartbeats in silence, the end of a connection, and the bound on
subscribers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from services.tracking.event_stream import (
    StreamTiming,
    Subscribers,
    TooManySubscribersError,
    event_stream,
    message,
    start_position,
)

TIMING = StreamTiming(poll=1.0, heartbeat=15.0, max_seconds=60.0)


class Archive:
    """Entries appear at given moments of a fake clock that only sleeping moves."""

    def __init__(self, appearing: dict[float, list[int]]) -> None:
        self.now = 0.0
        self.appearing = appearing
        self.looks: list[int] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def look(self, after: int) -> list[dict[str, Any]]:
        self.looks.append(after)
        visible = [p for at, ps in self.appearing.items() if at <= self.now for p in ps]
        return [entry(p) for p in sorted(visible) if p > after]


def entry(position: int) -> dict[str, Any]:
    return {"position": position, "type": "mla.request.received", "request_id": f"r{position}"}


async def collect(archive: Archive, start: int, *, gone_after: float = 1e9) -> list[bytes]:
    async def disconnected() -> bool:
        return archive.now >= gone_after

    stream = event_stream(
        start,
        archive.look,
        TIMING,
        disconnected=disconnected,
        clock=archive.clock,
        sleep=archive.sleep,
    )
    return [chunk async for chunk in stream]


def ids(chunks: list[bytes]) -> list[int]:
    return [int(c.split(b"\n")[0][4:]) for c in chunks if c.startswith(b"id: ")]


async def test_the_first_message_sets_the_reconnection_delay_and_the_position() -> None:
    chunks = await collect(Archive({}), 41, gone_after=0.5)
    assert chunks[0] == b"retry: 3000\nid: 41\n\n"


async def test_new_entries_are_sent_in_order_once_each_from_the_start_position() -> None:
    archive = Archive({0: [1, 2, 3], 5: [4], 9: [5, 6]})
    chunks = await collect(archive, 2, gone_after=20)
    assert ids(chunks) == [3, 4, 5, 6]
    data = [orjson.loads(c.split(b"data: ")[1]) for c in chunks if b"data: " in c]
    assert [d["request_id"] for d in data] == ["r3", "r4", "r5", "r6"]
    assert archive.looks[-1] == 6  # it goes on from the last position it sent


async def test_a_silence_gets_a_heartbeat_comment_every_interval() -> None:
    chunks = await collect(Archive({}), 0, gone_after=46)
    assert chunks.count(b": heartbeat\n\n") == 3  # at 15, 30 and 45 seconds


async def test_a_connection_ends_after_its_maximum_so_the_client_shows_its_token_again() -> None:
    archive = Archive({})
    await collect(archive, 0)
    assert archive.now == pytest.approx(TIMING.max_seconds, abs=TIMING.poll)


async def test_the_stream_stops_looking_once_the_client_is_gone() -> None:
    archive = Archive({})
    await collect(archive, 0, gone_after=3)
    assert len(archive.looks) == 3


def test_a_message_is_one_id_and_one_line_of_json() -> None:
    text = message({"position": 7, "type": "x", "note": "two\nlines"})
    assert text.startswith(b"id: 7\ndata: {")
    assert text.endswith(b"\n\n")
    assert text.count(b"\n") == 3


@pytest.mark.parametrize(
    ("after", "last_event_id", "expected"),
    [(None, None, None), (5, None, 5), (5, "9", 9), (None, " 12 ", 12), (3, "", 3)],
)
def test_the_start_is_the_last_event_id_else_after_else_the_head(
    after: int | None, last_event_id: str | None, expected: int | None
) -> None:
    assert start_position(after, last_event_id) == expected


@pytest.mark.parametrize("last_event_id", ["abc", "-1", "1e3", "9" * 19])
def test_a_last_event_id_that_is_no_position_is_refused(last_event_id: str) -> None:
    with pytest.raises(ValueError):
        start_position(None, last_event_id)


def test_subscribers_beyond_the_bound_are_refused_until_one_leaves() -> None:
    subscribers = Subscribers(2)
    subscribers.join()
    subscribers.join()
    with pytest.raises(TooManySubscribersError):
        subscribers.join()
    subscribers.leave()
    subscribers.join()
    assert subscribers.count == 2
