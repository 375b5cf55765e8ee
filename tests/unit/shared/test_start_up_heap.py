"""A service process sets what its start-up built aside from the garbage collector, so that
a full collection under load walks only what came after (shared/runtime.py); an app started
in a process that starts many, as the tests do, leaves the collector as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from shared.db import create_engine, session_factory
from shared.runtime import Runtime, lifespan_of
from shared.settings import ServiceSettings


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _app() -> FastAPI:
    def runtime() -> Runtime:
        settings = ServiceSettings()
        engine = create_engine(settings.database_url)  # never connects: no worker runs
        return Runtime(
            service="test", settings=settings, engine=engine, sessions=session_factory(engine)
        )

    return FastAPI(lifespan=lifespan_of(runtime))


async def test_a_service_process_sets_its_start_up_aside() -> None:
    app = _app()
    app.state.set_start_up_aside = True  # what `serve` sets before uvicorn starts the app
    async with app.router.lifespan_context(app):
        # The app itself is among what was set aside: a collection no longer walks it.
        assert gc.get_freeze_count() > 1000
        assert gc.is_tracked(app) and app not in gc.get_objects()


async def test_an_app_started_in_another_process_leaves_the_collector_alone() -> None:
    app = _app()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
