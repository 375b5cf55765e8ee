"""Wires notify: its settings, its consumer's handler and its HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify import handlers
from services.notify.adapters.tables import processed_events
from services.notify.entrypoints import api
from services.notify.settings import Settings
from shared.service import create_service_app

SERVICE = "notify"


def create(settings: Settings | None = None) -> FastAPI:
    """The notify app; nothing connects until its lifespan starts."""
    return create_service_app(
        service=SERVICE,
        title="MLA notify",
        description="Turns lifecycle events into signed webhooks and e-mail.",
        settings=settings or Settings(),
        install=api.install,
        processed=processed_events,
        handler=handlers.take_in,
    )
