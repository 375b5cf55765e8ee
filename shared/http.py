"""The HTTP face every service shares: problem errors, correlation ids, health, metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api_docs import install_api_docs
from shared.auth import Action, authorize
from shared.body_limit import BodyLimitMiddleware
from shared.broker_connection import BrokerConnection
from shared.kafka import broker_reachable
from shared.load_shedding import LoadSheddingMiddleware
from shared.metrics import HTTP_REQUESTS
from shared.nul_characters import NulCharacterMiddleware
from shared.openapi import install_problem_docs
from shared.problems import CORRELATION_HEADER, install_problem_handlers
from shared.rate_allowance import SharedRateLimiter
from shared.rate_limit import PRINCIPAL_LIMITER_STATE, RateLimiter, RateLimitMiddleware
from shared.security_headers import SecurityHeadersMiddleware
from shared.settings import ServiceSettings

# A caller's correlation id goes into every log line: anything else is replaced by a fresh one.
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

ReadinessCheck = Callable[[], Awaitable[bool]]
_JSON: dict[str, Any] = {"application/json": {}}


def create_app(
    *, title: str, description: str, lifespan: Any, settings: ServiceSettings, version: str = "1"
) -> FastAPI:
    """A FastAPI app with the shared error handling, correlation middleware and metrics, and
    the shared guards of its input: body size, rate limit, requests in hand, security
    headers, CORS."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    install_problem_docs(app)
    install_api_docs(app)
    # Each middleware added wraps the ones before it: the NUL check runs last, right before
    # the routes, on a body the limit has bounded; the security headers first, so that they
    # are on every refusal too.
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    _limit_rates(app, settings)
    if settings.max_requests_in_flight:
        # Inside the correlation: a refusal is timed and carries its correlation id.
        app.add_middleware(LoadSheddingMiddleware, most=settings.max_requests_in_flight)
    app.add_middleware(CorrelationMiddleware)
    if settings.cors_origins:
        _allow_cross_origin(app, settings.cors_origins)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _limit_rates(app: FastAPI, settings: ServiceSettings) -> None:
    """Per principal (taken by the auth dependency once the token is verified, into this
    app's state), per address for calls without a token, and a coarse per-address guard for
    calls with one: shared/rate_limit.py."""
    anonymous = credentialed = None
    if settings.rate_limit_per_second > 0:
        per_client = (settings.rate_limit_per_second, settings.rate_limit_burst)
        # Shared by the service's instances once its runtime has a database (lifespan).
        shared = SharedRateLimiter(RateLimiter(*per_client))
        setattr(app.state, PRINCIPAL_LIMITER_STATE, shared)
        anonymous = RateLimiter(*per_client)
    if settings.rate_limit_per_address_per_second > 0:
        credentialed = RateLimiter(
            settings.rate_limit_per_address_per_second, settings.rate_limit_per_address_burst
        )
    if anonymous is not None or credentialed is not None:
        app.add_middleware(RateLimitMiddleware, anonymous=anonymous, credentialed=credentialed)


def _allow_cross_origin(app: FastAPI, origins: list[str]) -> None:
    # Callers authenticate with a bearer token, never a cookie: credentials stay off.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", CORRELATION_HEADER],
        expose_headers=["Location", "Retry-After", "Idempotent-Replayed", CORRELATION_HEADER],
        max_age=600,
    )


class CorrelationMiddleware:
    """Binds the call's correlation id to the log context and the request's state, returns
    it in a header, and times the call into the metrics (to the start of the response).

    A plain ASGI middleware: Starlette's `@app.middleware("http")` form runs the rest of the
    app in a task of its own and passes the response through memory streams, a cost paid on
    every call that this avoids."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER, "")
        correlation_id = given if _CORRELATION_ID.match(given) else str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = time.perf_counter()

        async def send_correlated(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                HTTP_REQUESTS.labels(
                    scope["method"], getattr(route, "path", "unmatched"), str(message["status"])
                ).observe(time.perf_counter() - started)
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_correlated)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")


def database_check(engine: Callable[[], AsyncEngine]) -> ReadinessCheck:
    """A readiness check that runs `SELECT 1` on the service's database."""

    async def check() -> bool:
        try:
            async with engine().connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    return check


def broker_check(broker: BrokerConnection) -> ReadinessCheck:
    """A readiness check that asks the broker for metadata, as the service reaches it."""

    async def check() -> bool:
        return await broker_reachable(broker)

    return check


def operations_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/health/live`, `/health/ready` and `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up and serving HTTP."""
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        responses={503: {"description": "Not ready: a check is down", "content": _JSON}},
    )
    async def ready() -> JSONResponse:
        """Ready for work: the database and the broker both answer."""
        results = {name: await check() for name, check in checks.items()}
        healthy = all(results.values())
        return JSONResponse(
            {
                "status": "ok" if healthy else "unavailable",
                "checks": {name: "ok" if ok else "down" for name, ok in results.items()},
            },
            status_code=200 if healthy else 503,
        )

    # Metrics name routes and volumes: for operators and the scraper (an operator token).
    @router.get("/metrics", include_in_schema=False, dependencies=[authorize(Action.READ_METRICS)])
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
