"""Wires intake: its settings, its outbox, its consumer's handler and its HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake import handlers
from services.intake.adapters.reception import Reception
from services.intake.adapters.repository import requeue_owned_history
from services.intake.adapters.tables import outbox, processed_events
from services.intake.domain.request import observable
from services.intake.entrypoints import api
from services.intake.settings import Settings
from shared.personal_data.service_vault import ServiceKeyVault
from shared.service import create_service_app

SERVICE = "intake"


def create(settings: Settings | None = None) -> FastAPI:
    """The intake app; nothing connects until its lifespan starts."""
    settings = settings or Settings()
    keys = ServiceKeyVault(settings)
    app = create_service_app(
        service=SERVICE,
        title="MLA intake",
        description="Takes requests for international legal assistance in and closes them.",
        settings=settings,
        install=api.install,
        outbox=outbox,
        history=requeue_owned_history,
        processed=processed_events,
        handler=keys.evicting(handlers.observe_routing),
        interest=keys.noticing_erasures(observable),
        on_start=keys.open,
        on_stop=keys.close,
    )
    app.state.key_vault = keys
    # The runtime exists once the lifespan has started, before the first request.
    app.state.reception = Reception(
        lambda: app.state.runtime.single_statements(),
        max_batch=settings.submission_batch_max,
        writers=settings.submission_writers,
    )
    return app
