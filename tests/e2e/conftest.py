from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.api import Client
from tests.support.auth import bearer
from tests.support.stack import RunningStack


@pytest.fixture
async def client(stack: RunningStack) -> AsyncIterator[Client]:
    # An operator's token by default: calls made as someone else name their own headers.
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        yield Client(stack, http)
