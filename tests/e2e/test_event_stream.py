"""The live event stream over HTTP: a department caller sees each event tracking archives
as it happens, resumes after a break from its last id without losing one, and nobody else
may watch."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import orjson
import pytest

from tests.support.api import Client, a_request
from tests.support.auth import bearer

pytestmark = pytest.mark.e2e


async def events(
    client: Client, until: str, headers: dict[str, str], count: int
) -> tuple[int, list[dict[str, Any]]]:
    """The stream's first id, and the first `count` events of request `until` it sends."""
    first_id, found = -1, []
    url = client.url("tracking", "/v1/events/stream")
    async with asyncio.timeout(30), client.http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("id: ") and first_id < 0:
                first_id = int(line[4:])
            if line.startswith("data: "):
                event = orjson.loads(line[6:])
                if event["request_id"] == until:
                    found.append(event)
                    if len(found) == count:
                        break
    return first_id, found


async def test_an_operator_sees_a_new_request_live_and_resumes_without_losing_an_event(
    client: Client,
) -> None:
    operator = bearer("operator")
    request_id: str = ""

    async def submit_once_watching() -> None:
        nonlocal request_id
        await asyncio.sleep(1.5)  # the stream is open and at the head by now
        request_id = (await client.submit(a_request())).json()["id"]

    submitting = asyncio.create_task(submit_once_watching())
    # The stream does not know the id yet: watch for any event, then for this request's.
    url = client.url("tracking", "/v1/events/stream")
    live: list[dict[str, Any]] = []
    async with asyncio.timeout(30), client.http.stream("GET", url, headers=operator) as response:
        head = None
        async for line in response.aiter_lines():
            if line.startswith("id: ") and head is None:
                head = int(line[4:])
            if line.startswith("data: "):
                event = orjson.loads(line[6:])
                if event["request_id"] == request_id:
                    live.append(event)
                    if event["type"] == "mla.request.routed":
                        break
    await submitting
    assert head is not None
    received = live[0]
    assert received["type"] == "mla.request.received"
    assert received["domestic_reference"].startswith("MPP-")
    assert received["overdue"] is False
    # Only what the dashboard shows of it: no personal field, sealed or not.
    assert set(received) == {
        "position",
        "type",
        "request_id",
        "time",
        "status",
        "domestic_reference",
        "overdue",
    }

    # A client that lost the connection right after the stream opened gets every event
    # since, from its Last-Event-ID.
    _, resumed = await events(client, request_id, operator | {"Last-Event-ID": str(head)}, 2)
    assert [e["position"] for e in resumed] == [e["position"] for e in live]
    assert [e["type"] for e in resumed] == ["mla.request.received", "mla.request.routed"]


async def test_only_the_department_may_watch(client: Client) -> None:
    url = client.url("tracking", "/v1/events/stream")
    for role in ("office", "authority"):
        assert (await client.http.get(url, headers=bearer(role))).status_code == 403
    assert (await client.http.get(url, headers={"Authorization": ""})).status_code == 401
    refused = await client.http.get(url, headers=bearer("auditor") | {"Last-Event-ID": "x"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_overview_counts_what_waits_and_names_the_archive_head(client: Client) -> None:
    request_id = (await client.submit(a_request())).json()["id"]
    await client.until_tracked(request_id, "routed")
    response = await client.http.get(client.url("tracking", "/v1/overview"))
    assert response.status_code == 200
    overview = response.json()
    assert {office["office"] for office in overview["workload"]} >= {"vjt-subotica", "vjt-novi-sad"}
    assert overview["archive"]["head_position"] >= 2
    assert overview["overdue"] == len(overview["overdue_requests"])
    assert (
        await client.http.get(client.url("tracking", "/v1/overview"), headers=bearer("office"))
    ).status_code == 403


async def test_an_open_stream_does_not_hold_up_a_stop(client: Client) -> None:
    stack = client.stack
    url = client.url("tracking", "/v1/events/stream")
    async with client.http.stream("GET", url) as response:
        assert response.status_code == 200
        started = time.monotonic()
        returncode = await asyncio.to_thread(stack.stop, "tracking")
        stopped_in = time.monotonic() - started
    await stack.start("tracking")
    # After a clean shutdown uvicorn raises the signal it caught again: -SIGTERM, no kill.
    assert returncode in (0, -signal.SIGTERM)
    # uvicorn's graceful timeout is 20 s; a stream ends within a poll of the signal.
    assert stopped_in < 10
