from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.api import Client
from tests.support.stack import RunningStack


@pytest.fixture
async def client(stack: RunningStack) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=15) as http:
        yield Client(stack, http)
