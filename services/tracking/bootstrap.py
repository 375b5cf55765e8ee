"""Wires tracking: settings, projector, outbox for alerts, the signing key, the checkpoint
signer and the deadline monitor, and the HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from services.tracking import audit, handlers
from services.tracking.adapters.signing_key import load_or_create
from services.tracking.adapters.tables import outbox, processed_events
from services.tracking.deadline_monitor import DeadlineMonitor
from services.tracking.entrypoints import api, audit_api, deadlines_api
from services.tracking.settings import Settings
from services.tracking.stats_snapshot import StatsSnapshot
from shared.periodic import Periodic
from shared.runtime import Runtime
from shared.service import create_service_app

SERVICE = "tracking"


def create(settings: Settings | None = None) -> FastAPI:
    """The tracking app; nothing connects until its lifespan starts."""
    settings = settings or Settings()
    app: FastAPI

    async def start_workers(runtime: Runtime) -> None:
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
        snapshot = StatsSnapshot(
            lambda: handlers.get_stats(runtime.unit_of_work()),
            max_age=settings.stats_max_age_seconds,
        )
        app.state.stats = snapshot
        runtime.workers["stats"] = Periodic(
            "stats", settings.stats_max_age_seconds / 2, snapshot.keep_warm
        )

    def install(target: FastAPI) -> None:
        api.install(target)
        target.include_router(audit_api.router)
        target.include_router(deadlines_api.router)

    app = create_service_app(
        service=SERVICE,
        title="MLA tracking",
        description="Where every request stands, what happened to it, and the record of it.",
        settings=settings,
        install=install,
        outbox=outbox,
        processed=processed_events,
        handler=handlers.project_event,
        on_start=start_workers,
    )
    return app
