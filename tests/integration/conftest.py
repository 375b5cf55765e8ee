"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.consumers import consumer_database


@pytest.fixture
async def database() -> AsyncIterator[tuple[object, object]]:
    """A fresh database for a consumer under test (tests/support/consumers.py): its engine
    and its sessions."""
    async with consumer_database() as database:
        yield database
