"""Talking to the running services the way a client system would."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx

from shared.request.model import EXAMPLE_REQUEST
from tests.support.auth import bearer
from tests.support.infra import eventually
from tests.support.stack import RunningStack


def a_request(**changes: Any) -> dict[str, Any]:
    """The example request with a fresh foreign reference (and any field changed)."""
    body = copy.deepcopy(EXAMPLE_REQUEST)
    body["requesting_authority"]["reference"] = f"Kt {uuid.uuid4().hex[:8]}/2026"
    body.update(changes)
    return body


class Client:
    """The services as each kind of caller reaches them: the example authority submits, the
    operator reads and routes, the office that holds an assignment reports on it. `http`
    sends an operator's token unless a call names other headers (tests/e2e/conftest.py)."""

    def __init__(self, stack: RunningStack, http: httpx.AsyncClient) -> None:
        self.stack = stack
        self.http = http
        # assignment id -> the office holding it, as the assignments read so far said.
        self.offices: dict[str, str] = {}

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.url(service)}{path}"

    async def submit(
        self, body: dict[str, Any], key: str | None = None, *, as_: str = "authority"
    ) -> httpx.Response:
        headers = bearer(as_) | ({"Idempotency-Key": key} if key else {})
        return await self.http.post(self.url("intake", "/v1/requests"), json=body, headers=headers)

    async def tracked(self, request_id: str) -> dict[str, Any] | None:
        response = await self.http.get(self.url("tracking", f"/v1/requests/{request_id}"))
        return response.json() if response.status_code == 200 else None

    async def until_tracked(
        self, request_id: str, status: str, timeout: float = 60
    ) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            view = await self.tracked(request_id)
            return view if view and view["status"] == status else None

        found = await eventually(
            reached, timeout=timeout, what=f"{request_id} {status} in tracking"
        )
        assert isinstance(found, dict)
        return found

    async def until_intake_allows(self, request_id: str, action: str) -> dict[str, Any]:
        async def allowed() -> dict[str, Any] | None:
            body = (await self.http.get(self.url("intake", f"/v1/requests/{request_id}"))).json()
            return body if action in body["allowed_actions"] else None

        found = await eventually(allowed, what=f"intake allows {action!r} on {request_id}")
        assert isinstance(found, dict)
        return found

    async def timeline(self, request_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(self.url("tracking", f"/v1/requests/{request_id}/timeline"))
        return response.json() if response.status_code == 200 else []

    async def assignments(self, request_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            self.url("routing", f"/v1/requests/{request_id}/assignments")
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        self.offices.update({a["assignment_id"]: a["office_id"] for a in result})
        return result

    async def report(
        self, assignment_id: str, result: str = "executed", *, office: str | None = None
    ) -> httpx.Response:
        """The office that holds the assignment reports (an operator, for one not seen)."""
        office = office or self.offices.get(assignment_id)
        headers = bearer("office", office_id=office) if office else bearer("operator")
        return await self.http.post(
            self.url("routing", f"/v1/assignments/{assignment_id}/execution"),
            json={"result": result, "details": "carried out as requested"},
            headers=headers,
        )
