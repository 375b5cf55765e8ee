"""A principal has one allowance however many instances of a service answer it: the instances
take it from their database (shared/rate_allowance.py), on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import Action, authorize
from shared.auth.dependencies import install_auth
from shared.auth.tokens import SharedKeyVerifier
from shared.db import create_engine
from shared.http import create_app
from shared.rate_allowance import SharedRateLimiter
from shared.rate_limit import RateLimiter
from shared.runtime import Runtime, build_runtime, lifespan_of
from shared.settings import ServiceSettings
from tests.support.auth import AUDIENCE, ISSUER, bearer, stack_key
from tests.support.infra import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def database_url() -> str:
    """The database of a service, its migrations applied (the allowances among them)."""
    return await fresh_database("intake")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


def instance(engine: AsyncEngine, per_second: float, burst: int) -> SharedRateLimiter:
    limiter = SharedRateLimiter(RateLimiter(per_second, burst))
    limiter.share(engine)
    return limiter


async def test_two_instances_give_a_principal_its_burst_once_not_twice(
    engine: AsyncEngine,
) -> None:
    first, second = instance(engine, 0.5, 6), instance(engine, 0.5, 6)

    granted = [await (first if n % 2 else second).take("principal:ana") for n in range(6)]
    refused = [await first.take("principal:ana"), await second.take("principal:ana")]

    assert granted == [0.0] * 6
    assert all(0 < wait <= 2.0 for wait in refused), refused
    # Another principal's allowance is its own.
    assert await second.take("principal:ivan") == 0.0


async def test_leases_taken_by_instances_never_add_up_to_more_than_the_allowance(
    engine: AsyncEngine,
) -> None:
    # 40 a second: each instance takes 4 tokens at a time and spends them itself.
    instances = [instance(engine, 40, 120) for _ in range(3)]
    assert instances[0].lease_size == 4
    started = time.monotonic()

    granted = 0
    for turn in range(600):
        if await instances[turn % 3].take("principal:ana") == 0.0:
            granted += 1
    elapsed = time.monotonic() - started

    # Never past the burst and what the rate gave back meanwhile; stricter by at most the
    # lease each instance still holds.
    assert granted <= 120 + 40 * elapsed + 1
    assert granted >= 120 - 3 * 4


async def test_calls_at_once_from_one_principal_share_the_lease_being_taken(
    engine: AsyncEngine,
) -> None:
    # Leases of 3: thirty calls at once, each taking a lease of its own, would have the
    # allowance spent by ten of them and twenty refused.
    limiter = instance(engine, 300, 30)
    assert limiter.lease_size == 3

    waits = await asyncio.gather(*(limiter.take("principal:ana") for _ in range(30)))

    assert waits == [0.0] * 30


async def test_an_instance_limits_by_its_own_bucket_while_the_database_is_out() -> None:
    unreachable = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    try:
        limiter = instance(unreachable, 0.5, 2)

        answers = [await limiter.take("principal:ana") for _ in range(3)]
    finally:
        await unreachable.dispose()

    assert answers[:2] == [0.0, 0.0]
    assert answers[2] > 0


async def test_a_principal_spreading_its_calls_over_two_instances_is_refused_at_its_limit(
    database_url: str,
) -> None:
    ana = bearer("operator", subject="ana")
    first, second = _instance_app(database_url), _instance_app(database_url)

    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        one, other = _client(first), _client(second)
        answers = [await http.get("/v1/thing", headers=ana) for http in (one, other, one, other)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[3].headers["Retry-After"] == "2"
    assert "principal" in answers[3].json()["detail"]


def _instance_app(database_url: str) -> FastAPI:
    """An instance of a service on `database_url` whose principals may send 3 calls, then
    one every 2 s; its lifespan builds its runtime as a service's does."""
    settings = ServiceSettings(
        database_url=database_url, rate_limit_per_second=0.5, rate_limit_burst=3
    )

    def runtime() -> Runtime:
        return build_runtime(
            service="t", settings=settings, outbox=None, processed=None, handler=None
        )

    app = create_app(title="t", description="d", lifespan=lifespan_of(runtime), settings=settings)
    install_auth(app, SharedKeyVerifier(stack_key().encode(), issuer=ISSUER, audience=AUDIENCE))

    @app.get("/v1/thing", dependencies=[authorize(Action.READ_METRICS)])
    async def thing() -> dict[str, Any]:
        return {"ok": True}

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://service")
