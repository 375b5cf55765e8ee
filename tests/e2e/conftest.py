from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.tracking.audit_cli import main as mla_audit
from tests.support.api import Client, a_request
from tests.support.auth import bearer
from tests.support.infra import eventually
from tests.support.stack import RunningStack
from tests.support.tracking_audit import CORRUPTION, Submitted, alerts_of


@pytest.fixture
async def client(stack: RunningStack) -> AsyncIterator[Client]:
    # An operator's token by default: calls made as someone else name their own headers.
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        yield Client(stack, http)


# -- the tracking modules (tests/e2e/test_tracking_*.py) ------------------------------------


# Module-scoped: each tracking module submits and settles its own requests, once.
@pytest.fixture(scope="module")
async def submitted(stack: RunningStack) -> AsyncIterator[Submitted]:
    marker = uuid.uuid4().hex[:12]
    token = f"wksta{uuid.uuid4().hex[:8]}"
    tomorrow = (datetime.now(ZoneInfo("Europe/Belgrade")).date() + timedelta(days=1)).isoformat()
    bodies = {
        "drugs_si": a_request(),  # urgent, Slovenia, trafficking in drugs, direct
        "corruption_at": a_request(**copy.deepcopy(CORRUPTION)),
        "corruption_ministry": a_request(
            channel="ministry_of_justice", **copy.deepcopy(CORRUPTION)
        ),
        "due_tomorrow": a_request(requested_date=tomorrow),
        "withdrawn_at": a_request(urgency="normal", urgency_reasons=None),
    }
    bodies["corruption_at"]["requesting_authority"]["name"] = f"Zentrale Staatsanwaltschaft {token}"
    for name in ("corruption_at", "withdrawn_at"):
        bodies[name]["requesting_authority"]["country"] = "AT"
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        client = Client(stack, http)
        ids = {}
        for number, (name, body) in enumerate(bodies.items()):
            body["requesting_authority"]["reference"] = f"Kt {marker}-{number}/2026"
            response = await client.submit(body)
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
        for request_id in ids.values():
            await client.until_tracked(request_id, "routed")
        withdrawn = await http.post(
            client.url("intake", f"/v1/requests/{ids['withdrawn_at']}/withdrawal"),
            json={"reason": "the proceedings in Austria were discontinued"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        await client.until_tracked(ids["withdrawn_at"], "closed")
        await eventually(
            lambda: alerts_of(client, ids["due_tomorrow"]),
            what="the monitor's deadline_approaching in the timeline of the request due tomorrow",
        )
    yield Submitted(marker, token, ids, tomorrow)


@pytest.fixture
def audit_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Any]:
    """Run `mla-audit` in-process (off the event loop); its exit code and what it printed."""

    async def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(mla_audit, list(args))
        return code, capsys.readouterr().out

    return run
