"""Wires tracking: its settings, its consumer's projector and its HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from services.tracking import handlers
from services.tracking.adapters.tables import processed_events
from services.tracking.entrypoints import api
from services.tracking.settings import Settings
from shared.service import create_service_app

SERVICE = "tracking"


def create(settings: Settings | None = None) -> FastAPI:
    """The tracking app; nothing connects until its lifespan starts."""
    return create_service_app(
        service=SERVICE,
        title="MLA tracking",
        description="Where every request stands, what happened to it, and the record of it.",
        settings=settings or Settings(),
        install=api.install,
        processed=processed_events,
        handler=handlers.project_event,
    )
