"""Wires tracking: settings, projector, outbox for alerts, the signing key, the checkpoint
signer and the deadline monitor, the HTTP API, the live event stream and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from services.tracking import audit, handlers
from services.tracking.adapters.signing_key import load_or_create
from services.tracking.adapters.tables import outbox, processed_events
from services.tracking.dashboard import pages as dashboard_pages
from services.tracking.deadline_monitor import DeadlineMonitor
from services.tracking.entrypoints import (
    api,
    audit_api,
    deadlines_api,
    event_stream_api,
    overview_api,
)
from services.tracking.settings import Settings
from shared.periodic import Periodic
from shared.personal_data.service_vault import ServiceKeyVault
from shared.runtime import Runtime
from shared.service import create_service_app

SERVICE = "tracking"


def create(settings: Settings | None = None) -> FastAPI:
    """The tracking app; nothing connects until its lifespan starts."""
    settings = settings or Settings()
    keys = ServiceKeyVault(settings)
    app: FastAPI

    async def start_workers(runtime: Runtime) -> None:
        await keys.open()
        key = load_or_create(settings.signing_key_path)
        app.state.signing_key = key
        monitor = DeadlineMonitor(runtime.unit_of_work)
        app.state.deadline_monitor = monitor
        runtime.workers["checkpoint-signer"] = Periodic(
            "checkpoint-signer",
            settings.checkpoint_interval_seconds,
            lambda: audit.sign_head(runtime.unit_of_work(), key),
        )
        runtime.workers["deadline-monitor"] = Periodic(
            "deadline-monitor", settings.deadline_scan_seconds, monitor.scan
        )

    def install(target: FastAPI) -> None:
        api.install(target)
        target.include_router(audit_api.router)
        target.include_router(deadlines_api.router)
        target.include_router(overview_api.router)
        event_stream_api.install(target)
        dashboard_pages.install(target)

    app = create_service_app(
        service=SERVICE,
        title="MLA tracking",
        description="Where every request stands, what happened to it, and the record of it.",
        settings=settings,
        install=install,
        outbox=outbox,
        processed=processed_events,
        handler=keys.evicting(handlers.project_events),
        on_start=start_workers,
        on_stop=keys.close,
    )
    app.state.key_vault = keys
    return app
