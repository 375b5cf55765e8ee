"""Requests submitted to intake as a requesting authority would: closed loop (each
connection sends its next request when the last is answered: the most intake sustains) or
open loop (at a fixed rate whatever the answers do: latency at a given load).

Every request is the example request with a reference and an Idempotency-Key of its own,
so each one is new to intake (a replay would be cheaper and measure nothing).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
import uuid
from dataclasses import dataclass, field

import orjson

from bench.http_client import HttpError, Pool, request_bytes
from shared.request.model import EXAMPLE_REQUEST

_MARK = "__reference__"


class Submissions:
    """The bytes of each next submission, made with little work (the generator's CPU is
    taken from the services')."""

    def __init__(self, host: str, token: str) -> None:
        body = copy.deepcopy(EXAMPLE_REQUEST)
        body["requesting_authority"]["reference"] = _MARK
        self._before, self._after = orjson.dumps(body).split(_MARK.encode())
        self._head = request_bytes("POST", host, "/v1/requests", token).rstrip(b"\r\n") + b"\r\n"
        self._run = uuid.uuid4().hex[:8]
        self._numbers = itertools.count()

    def next(self) -> bytes:
        number = next(self._numbers)
        reference = f"Kt {self._run}-{number}/2026".encode()
        body = self._before + reference + self._after
        return b"%sIdempotency-Key: bench-%s-%d\r\nContent-Type: application/json\r\n" % (
            self._head,
            self._run.encode(),
            number,
        ) + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


@dataclass
class Sent:
    request_id: str
    sent: float  # perf_counter when it was due (open loop) or sent (closed loop)
    answered: float

    @property
    def latency(self) -> float:
        return self.answered - self.sent


@dataclass
class LoadResult:
    seconds: float
    accepted: list[Sent] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)  # status -> count
    broken: int = 0

    @property
    def rate(self) -> float:
        return len(self.accepted) / self.seconds if self.seconds else 0.0

    def routed(self, seen: dict[str, float]) -> tuple[list[float], int]:
        """Received → routed of each accepted request in `seen` (when it was seen routed),
        from intake's answer; and how many requests were refused or never seen routed."""
        visible = [seen[s.request_id] - s.answered for s in self.accepted if s.request_id in seen]
        return visible, len(self.accepted) - len(visible) + sum(self.refused.values())


async def _submit(pool: Pool, submissions: Submissions, due: float, result: LoadResult) -> None:
    try:
        answer = await pool.call(submissions.next())
    except (HttpError, OSError):
        result.broken += 1
        return
    answered = time.perf_counter()
    if answer.status == 201:
        body = answer.body
        # The id is the resource's first field; parsed in full only should that change.
        request_id = body[7:43].decode() if body[:7] == b'{"id":"' else str(answer.json()["id"])  # type: ignore[index]
        result.accepted.append(Sent(request_id, due, answered))
    else:
        result.refused[answer.status] = result.refused.get(answer.status, 0) + 1


async def closed_loop(
    pool: Pool, submissions: Submissions, *, connections: int, seconds: float, warmup: float
) -> LoadResult:
    """`connections` clients submitting back to back for `warmup + seconds`; the figures
    cover the last `seconds` only (the first are the services warming up)."""
    started = time.perf_counter()
    counted_from = started + warmup
    ends = counted_from + seconds
    warm = LoadResult(seconds=warmup)
    result = LoadResult(seconds=seconds)

    async def client() -> None:
        while (now := time.perf_counter()) < ends:
            await _submit(pool, submissions, now, result if now >= counted_from else warm)

    await asyncio.gather(*(client() for _ in range(connections)))
    # A request sent before the end and answered after it counts for the time it took.
    result.seconds = max(ends, *(s.answered for s in result.accepted)) - counted_from
    return result


async def open_loop(
    pool: Pool, submissions: Submissions, *, rate: float, seconds: float
) -> LoadResult:
    """One request every 1/`rate` s for `seconds`, each timed from when it was due (a late
    answer cannot delay the next request, so slowness is measured, not hidden)."""
    result = LoadResult(seconds=seconds)
    started = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()
    for number in range(int(rate * seconds)):
        due = started + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(_submit(pool, submissions, due, result))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return result
