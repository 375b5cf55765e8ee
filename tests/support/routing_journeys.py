"""How the parties of the routing journeys talk to the services, end to end: an operator
previews and routes, an executing office declines or reports, the department closes. Shared
by tests/e2e/test_routing_*.py; every refusal is checked as RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa

from shared.db import create_engine
from shared.eventstore import event_store_tables
from tests.support.api import Client, a_request
from tests.support.infra import eventually

PROBLEM_JSON = "application/problem+json"
CYBERCRIME_OFFENCE = {
    "qualification": "Criminal Code of Slovenia art. 221 (attack on an information system)",
    "category": "cybercrime",
    "max_penalty_years": 5,
}
# The example request with a penalty basic offices handle: ojt-subotica and ojt-novi-sad.
BASIC_OFFENCE = {
    "qualification": "Criminal Code of Serbia art. 246a (possession of narcotic drugs)",
    "category": "trafficking_drugs",
    "max_penalty_years": 8,
}
# What any service's events table looks like: enough to count what a command stored.
STORED = event_store_tables(sa.MetaData())[0]


# -- how the parties talk to the services -------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """A refusal in RFC 9457 form; a 409 also says the state and what it allows."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    if status == 409 and body["type"].endswith("/illegal-transition"):
        assert isinstance(body["state"], str) and body["state"], body
        assert isinstance(body["allowed_actions"], list), body
    return body


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors") or []}


async def submitted(client: Client, body: dict[str, Any]) -> str:
    response = await client.submit(body)
    assert response.status_code == 201, response.text
    request_id: str = response.json()["id"]
    return request_id


async def routed_request(client: Client, body: dict[str, Any] | None = None) -> str:
    request_id = await submitted(client, body or a_request())
    await client.until_tracked(request_id, "routed")
    return request_id


async def preview(client: Client, body: dict[str, Any]) -> httpx.Response:
    return await client.http.post(client.url("routing", "/v1/routing/preview"), json=body)


async def route_by_hand(client: Client, request_id: str, **body: Any) -> httpx.Response:
    return await client.http.post(
        client.url("routing", f"/v1/requests/{request_id}/routing"), json=body
    )


async def routing_of(client: Client, request_id: str) -> dict[str, Any]:
    response = await client.http.get(client.url("routing", f"/v1/requests/{request_id}/routing"))
    assert response.status_code == 200, response.text
    routing: dict[str, Any] = response.json()
    return routing


async def decline(client: Client, assignment_id: str, reason: str) -> httpx.Response:
    return await client.http.post(
        client.url("routing", f"/v1/assignments/{assignment_id}/declination"),
        json={"reason": reason},
    )


async def close(client: Client, request_id: str, **body: Any) -> httpx.Response:
    return await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/closure"), json=body
    )


async def withdraw(client: Client, request_id: str) -> httpx.Response:
    return await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/withdrawal"),
        json={"reason": "the suspect was extradited; the case goes on in Serbia"},
    )


def by_office(assignments: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["office_id"]: a for a in assignments}


async def assignment_ids(client: Client, request_id: str) -> dict[str, str]:
    return {a["office_id"]: a["assignment_id"] for a in await client.assignments(request_id)}


async def every_office_reports(client: Client, request_id: str) -> None:
    """Each executing office reports its assignment executed (as that office)."""
    for assignment_id in (await assignment_ids(client, request_id)).values():
        assert (await client.report(assignment_id)).status_code == 200


def lifecycle(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline without tracking's own deadline alerts (they come when time says so)."""
    return [e for e in entries if not e["type"].startswith("mla.request.deadline_")]


async def until_view(
    client: Client, request_id: str, check: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        view = await client.tracked(request_id)
        return view if view is not None and check(view) else None

    found = await eventually(reached, what=f"{request_id}: {what}")
    assert isinstance(found, dict)
    return found


async def until_intake_saw_report(client: Client, request_id: str, assignment_id: str) -> None:
    async def seen() -> bool:
        body = (await client.http.get(client.url("intake", f"/v1/requests/{request_id}"))).json()
        return body["assignments"].get(assignment_id) is not None

    await eventually(seen, what=f"intake saw the report of {assignment_id}")


async def stored_events(database_url: str, stream_id: str) -> list[dict[str, Any]]:
    """The events a service stored for one request (what it decided, the loser's included)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.select(STORED.c.type, STORED.c.envelope)
                .where(STORED.c.stream_id == stream_id)
                .order_by(STORED.c.version)
            )
            return [{"type": row.type, "data": row.envelope.get("data", {})} for row in rows]
    finally:
        await engine.dispose()


def a_cybercrime_preservation_request() -> dict[str, Any]:
    return a_request(
        channel="cybercrime_24_7",
        legal_basis="budapest",
        summary_of_facts="Ransomware hit a hospital in Ljubljana from servers hosted in Serbia.",
        offence_category="cybercrime",
        offences=[CYBERCRIME_OFFENCE],
        persons=[],
        measures=[
            {
                "type": "preservation_of_data",
                "place": "Novi Beograd",
                "details": "Access logs of the hosting provider, 1 to 15 January 2026.",
            }
        ],
        related_requests=[],
    )
