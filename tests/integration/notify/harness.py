"""notify in-process: its app with its lifespan running, and an HTTP client on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from services.notify.bootstrap import create
from services.notify.settings import Settings
from tests.support.auth import bearer, stack_key
from tests.support.infra import eventually

# Short pauses, so retries and rebalances take moments. The attempt's timeout is the
# exception: the receivers and the mail catcher answer from the test's own process, and on a
# slow machine under the parallel suite an answer took more than 1 s. The attempt then
# counted as failed and the message the receiver had in fact accepted came again, once as a
# webhook (32 of 30) and once as an e-mail (11 of 7). These tests are about what is sent, not
# about slow receivers, so they wait as long as needed; the test of a hanging receiver sets
# its own timeout.
FAST: dict[str, Any] = {
    "allow_private_targets": True,
    "delivery_timeout_seconds": 10.0,
    "delivery_max_attempts": 8,
    "delivery_initial_backoff_seconds": 0.1,
    "delivery_max_backoff_seconds": 0.4,
    "delivery_poll_seconds": 0.05,
    "retry_initial_seconds": 0.05,
    "retry_max_seconds": 0.5,
    "consumer_session_timeout_ms": 2000,
    "consumer_rebalance_timeout_ms": 300,
    "consumer_heartbeat_ms": 300,
    "tracking_base_url": "https://tracking.mla.example",
    "auth_shared_key": stack_key(),
}


class Notify:
    """One notify app, its lifespan running, and an HTTP client on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create(settings)
        # The department's operator, who sees every subscription and delivery.
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://notify",
            headers=bearer("operator"),
        )

    async def subscribe(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/subscriptions", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def deliveries(self, **query: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/v1/deliveries", params={"limit": 200, **query})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def until_deliveries(
        self, condition: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 60
    ) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            items = await self.deliveries()
            return items if condition(items) else None

        found = await eventually(check, timeout=timeout, what=what)
        assert isinstance(found, list)
        return found


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Notify]:
    notify = Notify(settings)
    async with notify.app.router.lifespan_context(notify.app), notify.http:
        yield notify
