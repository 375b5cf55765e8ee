"""The routes of the four apps, as the access tests enumerate them: built in-process from
each service's bootstrap (nothing connects), so that a new endpoint is in every matrix."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from functools import cache

from fastapi import FastAPI

from shared.auth import action_of, api_routes
from shared.auth.dependencies import OPEN_PATHS
from shared.auth.policy import Action
from tests.support.auth import stack_key

SERVICES = ("intake", "routing", "tracking", "notify")


@cache
def service_app(service: str) -> FastAPI:
    """The service's app with the tests' key; its lifespan is not started."""
    settings = importlib.import_module(f"services.{service}.settings").Settings
    app: FastAPI = importlib.import_module(f"services.{service}.bootstrap").create(
        settings(auth_shared_key=stack_key())
    )
    return app


def endpoints() -> Iterator[tuple[str, str, str]]:
    """(service, method, path) of every endpoint that is not open to all."""
    for service in SERVICES:
        for path, route in api_routes(service_app(service)):
            for method in sorted(route.methods or ()):
                if method != "HEAD" and path not in OPEN_PATHS:
                    yield service, method, path


def action(service: str, method: str, path: str) -> Action:
    """The action the endpoint declares."""
    for route_path, route in api_routes(service_app(service)):
        if route_path == path and method in (route.methods or ()):
            found = action_of(route)
            assert found is not None, f"{method} {path} declares no action"
            return found
    raise AssertionError(f"{service} has no route {method} {path}")
