"""The HTTP face every service shares: problem errors, correlation ids, health, metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.kafka import broker_reachable
from shared.metrics import HTTP_REQUESTS
from shared.problems import install_problem_handlers

CORRELATION_HEADER = "X-Correlation-ID"

ReadinessCheck = Callable[[], Awaitable[bool]]


def create_app(*, title: str, description: str, lifespan: Any, version: str = "1") -> FastAPI:
    """A FastAPI app with the shared error handling, correlation middleware and metrics."""
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    install_problem_handlers(app)
    app.middleware("http")(_correlate_and_measure)
    return app


async def _correlate_and_measure(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    request.state.correlation_id = correlation_id
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")
    route = request.scope.get("route")
    HTTP_REQUESTS.labels(
        request.method, getattr(route, "path", "unmatched"), str(response.status_code)
    ).observe(time.perf_counter() - started)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


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


def broker_check(bootstrap_servers: str) -> ReadinessCheck:
    """A readiness check that asks the broker for metadata."""

    async def check() -> bool:
        return await broker_reachable(bootstrap_servers)

    return check


def operations_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/health/live`, `/health/ready` and `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up and serving HTTP."""
        return {"status": "ok"}

    @router.get("/health/ready")
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

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
