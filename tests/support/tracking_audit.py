"""Reading tracking and its archive the way operators and auditors do, end to end, and the
requests each tracking e2e module submits (`Submitted`, made by the `submitted` fixture of
tests/e2e/conftest.py). Shared by tests/e2e/test_tracking_*.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import Client
from tests.support.auth import bearer
from tests.support.auth import token as signed_token

PROBLEM_JSON = "application/problem+json"
CORRUPTION = {
    "offence_category": "corruption",
    "offences": [
        {"qualification": "Criminal Code of Austria § 304 (bribery)", "category": "corruption"}
    ],
    "urgency": "normal",
    "urgency_reasons": None,
}


@dataclass(frozen=True)
class Submitted:
    """This module's requests, settled: routed, one withdrawn, one with a deadline due soon."""

    marker: str  # in every foreign reference
    authority_token: str  # in the requesting authority's name of `corruption_at` only
    ids: dict[str, str]  # name -> request id, in the order submitted
    tomorrow: str  # the date `due_tomorrow` asked for

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def of(self, *names: str) -> set[str]:
        return {self.ids[name] for name in names}

    @property
    def in_order(self) -> list[str]:
        return list(self.ids.values())


# -- reading tracking ----------------------------------------------------------------------


async def page(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.http.get(client.url("tracking", "/v1/requests"), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(client: Client, **params: Any) -> list[str]:
    return [item["request_id"] for item in (await page(client, limit=200, **params))["items"]]


async def get_json(client: Client, path: str, **params: Any) -> Any:
    # An auditor reads the archive, and every request too.
    response = await client.http.get(
        client.url("tracking", path), params=params, headers=bearer("auditor")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def alerts_of(client: Client, request_id: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in await client.timeline(request_id)
        if entry["type"] == "mla.request.deadline_approaching"
    ]


async def exported(client: Client, from_position: int = 1) -> list[bytes]:
    """The archive's NDJSON lines from a position."""
    response = await client.http.get(
        client.url("tracking", "/v1/audit/events"),
        params={"from_position": from_position},
        headers=bearer("auditor"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.content.splitlines()


def by_position(lines: list[bytes]) -> dict[int, dict[str, Any]]:
    entries = [json.loads(line) for line in lines]
    return {entry["position"]: entry for entry in entries}


async def verification(client: Client) -> dict[str, Any]:
    result: dict[str, Any] = await get_json(client, "/v1/audit/verify")
    return result


async def replayed(client: Client, **body: Any) -> dict[str, Any]:
    response = await client.http.post(
        client.url("tracking", "/v1/audit/replay"), json=body, headers=bearer("admin")
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def auditor_token() -> str:
    return signed_token("auditor")


async def export_with_cli(client: Client, audit_cli: Callable[..., Any], out: Path) -> Path:
    code, printed = await audit_cli(
        "export", "--url", client.stack.url("tracking"), "--out", str(out), "--quiet",
        "--token", auditor_token(),
    )  # fmt: skip
    assert code == 0, printed
    return out
