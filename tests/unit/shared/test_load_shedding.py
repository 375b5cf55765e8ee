"""An instance with its limit of requests in hand refuses the next at once, with 503 and
Retry-After, and takes requests again as soon as those in hand are answered; its probes and
metrics are never refused."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from shared.http import create_app, operations_router
from shared.load_shedding import LoadSheddingMiddleware
from shared.settings import ServiceSettings


class Held:
    """Requests to `/v1/held` wait until released; `inside` counts those waiting."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.inside = 0

    def app(self, **settings: Any) -> FastAPI:
        app = create_app(
            title="t", description="d", lifespan=None, settings=ServiceSettings(**settings)
        )
        app.include_router(operations_router({}))

        @app.get("/v1/held")
        async def held() -> dict[str, str]:
            self.inside += 1
            await self.released.wait()
            return {"answered": "yes"}

        return app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service")


async def until_inside(held: Held, count: int) -> None:
    for _ in range(200):
        if held.inside >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{held.inside} requests reached the handler, not {count}")


def shed_so_far() -> float:
    return REGISTRY.get_sample_value("mla_http_requests_shed_total") or 0.0


async def test_a_request_beyond_the_limit_is_refused_at_once_and_served_once_room_is_made() -> None:
    held = Held()
    service = client_of(held.app(max_requests_in_flight=2))
    before = shed_so_far()
    in_hand = [asyncio.create_task(service.get("/v1/held")) for _ in range(2)]
    await until_inside(held, 2)

    # At once: a request taken in would wait with the others (and this test with it).
    refused = await asyncio.wait_for(
        service.get("/v1/held", headers={"X-Correlation-ID": "busy-1"}), 2
    )

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/service-busy")
    assert "2 requests in hand" in refused.json()["detail"]
    assert refused.headers["X-Correlation-ID"] == "busy-1"
    assert held.inside == 2, "the refused request never reached the handler"
    assert shed_so_far() - before == 1
    assert (await service.get("/health/live")).status_code == 200, "the probes always answer"

    held.released.set()
    assert [(await answer).status_code for answer in in_hand] == [200, 200]
    assert (await service.get("/v1/held")).status_code == 200


async def test_without_a_limit_every_request_is_taken_in() -> None:
    held = Held()
    app = held.app(max_requests_in_flight=0)
    service = client_of(app)
    assert all(m.cls is not LoadSheddingMiddleware for m in app.user_middleware)

    in_hand = [asyncio.create_task(service.get("/v1/held")) for _ in range(5)]
    await until_inside(held, 5)
    held.released.set()

    assert [(await answer).status_code for answer in in_hand] == [200] * 5
