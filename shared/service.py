"""One function that assembles a service app from its parts, the same way for all four."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import install_auth, require_rules, verifier_of
from shared.event_handlers import BatchHandler, Interest, everything
from shared.http import broker_check, create_app, database_check, operations_router
from shared.runtime import Runtime, build_runtime, lifespan_of
from shared.settings import ServiceSettings


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    install: Callable[[FastAPI], None],
    outbox: sa.Table | None = None,
    processed: sa.Table | None = None,
    handler: BatchHandler | None = None,
    interest: Interest = everything,
    on_start: Callable[[Runtime], Awaitable[None]] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    history: Callable[[AsyncSession], Awaitable[int]] | None = None,
) -> FastAPI:
    """The app of a service: its routes (`install`), health and metrics, and a lifespan
    that starts its relay (when it has an outbox) and its consumer (when it has a handler, for
    the events of its `interest`)."""
    holder: dict[str, Runtime] = {}

    def make_runtime() -> Runtime:
        holder["runtime"] = build_runtime(
            service=service,
            settings=settings,
            outbox=outbox,
            processed=processed,
            handler=handler,
            history=history,
            interest=interest,
        )
        return holder["runtime"]

    app = create_app(
        title=title,
        description=description,
        lifespan=lifespan_of(make_runtime, on_start, on_stop),
        settings=settings,
    )
    app.state.settings = settings
    install(app)
    app.include_router(
        operations_router(
            {
                "database": database_check(lambda: holder["runtime"].engine),
                "broker": broker_check(settings.broker),
            }
        )
    )
    install_auth(app, verifier_of(settings))
    require_rules(app)
    return app
