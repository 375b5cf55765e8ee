"""The broker goes away: requests are still taken in, and reach tracking once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from devstack.broker import EmbeddedBroker, free_port
from tests.support.api import Client, a_request
from tests.support.auth import bearer
from tests.support.infra import eventually
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
async def own_broker() -> AsyncIterator[EmbeddedBroker]:
    broker = EmbeddedBroker(free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def isolated(own_broker: EmbeddedBroker, pg_server: str) -> AsyncIterator[Client]:
    stack: RunningStack = await start_stack(
        ARTIFACTS / "logs" / "broker-outage", bootstrap=own_broker.bootstrap_servers
    )
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        yield Client(stack, http)
    stack.stop_all()


async def test_requests_taken_in_while_the_broker_is_down_reach_tracking_exactly_once(
    own_broker: EmbeddedBroker, isolated: Client
) -> None:
    client = isolated
    warm = (await client.submit(a_request())).json()["id"]
    await client.until_tracked(warm, "routed")

    own_broker.stop()
    created = []
    for _ in range(3):
        response = await client.submit(a_request())
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    ready = await client.http.get(client.url("intake", "/health/ready"))
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "broker": "down"}

    # The broker comes back empty (it keeps nothing in memory across a restart).
    own_broker.start()
    for request_id in created:
        await client.until_tracked(request_id, "routed")

    async def settled() -> bool:
        timelines = [await client.timeline(request_id) for request_id in created]
        return all(len(t) == 2 for t in timelines)

    await eventually(settled, what="two events per request in tracking")
    for request_id in created:
        types = [entry["type"] for entry in await client.timeline(request_id)]
        assert types == ["mla.request.received", "mla.request.routed"]
