"""Wires notify: its settings, its consumer's handler, its delivery worker and its HTTP API.

The shared lifespan starts the engine and the consumer; notify's own lifespan, wrapped
around it, starts the delivery worker after them and stops it first (it finishes the
attempts in flight while the engine is still open).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notify import handlers
from services.notify.adapters.mail import MailSender
from services.notify.adapters.tables import processed_events
from services.notify.adapters.targets import TargetGuard
from services.notify.adapters.webhooks import WebhookSender
from services.notify.entrypoints import api
from services.notify.entrypoints.worker import DeliveryWorker
from services.notify.settings import Settings
from shared.runtime import Runtime
from shared.service import create_service_app

SERVICE = "notify"


def create(settings: Settings | None = None) -> FastAPI:
    """The notify app; nothing connects until its lifespan starts."""
    settings = settings or Settings()
    guard = TargetGuard(
        allow_private=settings.allow_private_targets, timeout=settings.delivery_timeout_seconds
    )
    app = create_service_app(
        service=SERVICE,
        title="MLA notify",
        description="Turns lifecycle events into signed webhooks and e-mail.",
        settings=settings,
        install=api.install,
        processed=processed_events,
        handler=functools.partial(handlers.take_in, tracking_url=settings.tracking_base_url),
    )
    app.state.guard = guard
    shared_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared_lifespan(app):
            worker = _worker(app.state.runtime, settings, guard)
            app.state.worker = worker
            task = asyncio.create_task(worker.run(), name="delivery-worker")
            try:
                yield
            finally:
                worker.stop()
                await task

    app.router.lifespan_context = lifespan
    return app


def _worker(runtime: Runtime, settings: Settings, guard: TargetGuard) -> DeliveryWorker:
    return DeliveryWorker(
        sessions=runtime.sessions,
        settings=settings,
        webhooks=WebhookSender(guard, settings.delivery_timeout_seconds),
        mail=MailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            timeout=settings.delivery_timeout_seconds,
        ),
    )
