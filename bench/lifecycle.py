"""Whole lifecycles, driven as the parties would: the authority submits (intake), routing
routes it, each executing office reports its assignment executed (routing), the department
closes the request once intake knows every office reported (intake), and tracking shows it
closed. Throughput: lifecycles from the first submission to the last closure seen in
tracking.

`concurrency` lifecycles run at once; each waits for the system between its steps (tracking's
live stream says when routing routed it, and when it shows every assignment executed), the
way a client waits for the events of an event-driven system rather than polling it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from bench.follow import Follower
from bench.http_client import Pool, request_bytes
from bench.intake_load import Submissions
from shared.events.catalogue import CLOSED, ROUTED

STEP_TIMEOUT = 120.0
# How long the department waits before asking again when intake has not yet heard of the
# last execution report (tracking and intake consume the topic independently): doubling
# from the first to the last, so that waiting lifecycles do not flood intake with refusals.
CLOSE_RETRY_SECONDS = (0.02, 0.5)


@dataclass
class LifecycleResult:
    lifecycles: int
    seconds: float = 0.0
    durations: list[float] = field(default_factory=list)
    close_retries: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.durations) / self.seconds if self.seconds else 0.0


@dataclass
class Parties:
    intake: Pool
    routing: Pool
    host: str
    operator: str
    # A token for the executing office `office_id`.
    office: Callable[[str], str]


async def run(
    parties: Parties,
    submissions: Submissions,
    follower: Follower,
    *,
    lifecycles: int,
    concurrency: int,
) -> LifecycleResult:
    result = LifecycleResult(lifecycles=lifecycles)
    gate = asyncio.Semaphore(concurrency)
    started = time.perf_counter()

    async def one() -> None:
        async with gate:
            try:
                result.durations.append(await _lifecycle(parties, submissions, follower, result))
            except Exception as exc:
                result.failures.append(repr(exc)[:300])

    await asyncio.gather(*(one() for _ in range(lifecycles)))
    result.seconds = time.perf_counter() - started
    return result


async def _lifecycle(
    parties: Parties, submissions: Submissions, follower: Follower, result: LifecycleResult
) -> float:
    started = time.perf_counter()
    submitted = await parties.intake.call(submissions.next())
    if submitted.status != 201:
        raise RuntimeError(f"submission answered {submitted.status}: {submitted.body[:200]!r}")
    request_id = str(submitted.json()["id"])  # type: ignore[index]
    await _seen(follower, request_id, ROUTED)

    host, operator = parties.host, parties.operator
    path = f"/v1/requests/{request_id}/assignments"
    listed = await parties.routing.call(request_bytes("GET", host, path, operator))
    if listed.status != 200:
        raise RuntimeError(f"assignments answered {listed.status}")
    report = orjson.dumps({"result": "executed", "details": "carried out as requested"})
    for assignment in listed.json():  # type: ignore[attr-defined]
        path = f"/v1/assignments/{assignment['assignment_id']}/execution"
        token = parties.office(assignment["office_id"])
        reported = await parties.routing.call(request_bytes("POST", host, path, token, report))
        if reported.status != 200:
            raise RuntimeError(f"execution report answered {reported.status}")
    await _seen(follower, request_id, "status:executed")

    closure = orjson.dumps({"outcome": "completed", "answer_summary": "Records seized."})
    path = f"/v1/requests/{request_id}/closure"
    deadline = time.perf_counter() + STEP_TIMEOUT
    pause, longest = CLOSE_RETRY_SECONDS
    while True:
        closed = await parties.intake.call(request_bytes("POST", host, path, operator, closure))
        if closed.status == 200:
            break
        if closed.status != 409 or time.perf_counter() > deadline:
            raise RuntimeError(f"closure answered {closed.status}: {closed.body[:200]!r}")
        result.close_retries += 1  # intake has not yet consumed the last report
        await asyncio.sleep(pause)
        pause = min(pause * 2, longest)
    return await _seen(follower, request_id, CLOSED) - started


async def _seen(follower: Follower, request_id: str, what: str) -> float:
    """When tracking showed `what` of the request; a failure naming both when it did not
    within `STEP_TIMEOUT` (the request id leads to its events in the services' logs, kept
    with `--keep-logs`)."""
    try:
        return await asyncio.wait_for(follower.wait(request_id, what), STEP_TIMEOUT)
    except TimeoutError:
        raise TimeoutError(
            f"{what} of request {request_id} not seen in tracking within {STEP_TIMEOUT:.0f} s"
        ) from None
