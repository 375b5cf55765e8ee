"""Wires routing: its settings, outbox, directory, consumer's handler and HTTP API."""

from __future__ import annotations

import structlog
from fastapi import FastAPI

from services.routing.adapters.directory_store import DirectoryStore
from services.routing.adapters.repository import requeue_owned_history
from services.routing.adapters.tables import outbox, processed_events
from services.routing.domain.routed_request import observable
from services.routing.entrypoints import api
from services.routing.handlers import Routing
from services.routing.settings import Settings
from shared.eventstore import ConcurrencyError
from shared.runtime import Runtime
from shared.service import create_service_app

SERVICE = "routing"
log = structlog.get_logger("routing")


def create(settings: Settings | None = None) -> FastAPI:
    """The routing app; nothing connects until its lifespan starts."""
    routing = Routing(DirectoryStore())

    async def seed_directory(runtime: Runtime) -> None:
        try:
            async with runtime.unit_of_work() as uow:
                if await routing.directories.ensure_seeded(uow.session):
                    log.info("directory.seeded", version=1)
                await uow.commit()
        except ConcurrencyError:
            pass  # another instance seeded it first

    app = create_service_app(
        service=SERVICE,
        title="MLA routing",
        description="Finds the competent office(s) for a request and takes their reports.",
        settings=settings or Settings(),
        install=api.install,
        outbox=outbox,
        history=requeue_owned_history,
        processed=processed_events,
        handler=routing.handle_events,
        interest=observable,
        on_start=seed_directory,
    )
    app.state.routing = routing
    return app
