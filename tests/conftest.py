"""Fixtures shared by the integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.report import print_table
from tests.support.infra import kafka_bootstrap, postgres_url
from tests.support.stack import RunningStack, start_stack

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def pg_server() -> str:
    return postgres_url()


@pytest.fixture(scope="session")
def kafka() -> str:
    return kafka_bootstrap()


@pytest.fixture(scope="session")
async def stack(pg_server: str, kafka: str, worker_id: str) -> AsyncIterator[RunningStack]:
    """The four services, running, shared by the end-to-end tests of one worker."""
    running = await start_stack(ARTIFACTS / "logs" / f"stack-{worker_id}")
    yield running
    running.stop_all()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The fault suite's table, when it ran (tests/faults/report.py)."""
    print_table(terminalreporter)
