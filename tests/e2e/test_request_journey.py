"""A request's journey through the four running services, over HTTP and Kafka."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.support.api import Client, a_request
from tests.support.infra import eventually

pytestmark = pytest.mark.e2e


async def test_a_submitted_request_shows_as_routed_in_tracking(client: Client) -> None:
    response = await client.submit(a_request())
    assert response.status_code == 201
    created = response.json()
    assert created["domestic_reference"].startswith("MPP-")
    assert response.headers["location"] == f"/v1/requests/{created['id']}"

    view = await client.until_tracked(created["id"], "routed")
    assert view["domestic_reference"] == created["domestic_reference"]
    assert set(view["offices"]) == {"vjt-subotica", "vjt-novi-sad"}
    assert [e["type"] for e in await client.timeline(created["id"])] == [
        "mla.request.received",
        "mla.request.routed",
    ]


async def test_a_request_goes_from_receipt_to_closure_once_every_office_has_executed(
    client: Client,
) -> None:
    request_id = (await client.submit(a_request())).json()["id"]
    await client.until_tracked(request_id, "routed")
    assignments = await client.assignments(request_id)
    assert len(assignments) == 2

    first, second = assignments
    assert (await client.report(first["assignment_id"])).status_code == 200
    early = await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/closure"), json={"outcome": "completed"}
    )
    assert early.status_code == 409
    assert "have not reported execution" in early.json()["detail"]

    assert (await client.report(second["assignment_id"])).status_code == 200
    await client.until_tracked(request_id, "executed")
    await client.until_intake_allows(request_id, "close as completed")
    closed = await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/closure"),
        json={"outcome": "completed", "answer_summary": "Records seized and witness heard."},
    )
    assert closed.status_code == 200, closed.text
    view = await client.until_tracked(request_id, "closed")
    assert view["outcome"] == "completed"
    assert [a["result"] for a in view["assignments"]] == ["executed", "executed"]

    again = await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/closure"),
        json={"outcome": "refused", "grounds": "x"},
    )
    assert again.status_code == 409
    assert again.json()["state"] == "closed"
    assert "already closed" in again.json()["detail"]

    async def routing_knows_it_is_closed() -> object:
        twice = await client.report(first["assignment_id"])
        assert twice.status_code == 409
        return "closed" in twice.json()["detail"]

    await eventually(routing_knows_it_is_closed, what="routing refuses reports on a closed request")


async def test_the_same_idempotency_key_makes_one_request(client: Client) -> None:
    body = a_request()
    first = await client.submit(body, key=f"retry-{body['requesting_authority']['reference']}")
    again = await client.submit(body, key=f"retry-{body['requesting_authority']['reference']}")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"

    other = await client.submit(
        a_request(), key=f"retry-{body['requesting_authority']['reference']}"
    )
    assert other.status_code == 409
    assert "different request body" in other.json()["detail"]

    await client.until_tracked(first.json()["id"], "routed")
    received = [
        e for e in await client.timeline(first.json()["id"]) if e["type"] == "mla.request.received"
    ]
    assert len(received) == 1


async def test_submissions_racing_with_one_idempotency_key_make_one_request(
    client: Client,
) -> None:
    body = a_request()
    key = f"race-{body['requesting_authority']['reference']}"

    answers = await asyncio.gather(*(client.submit(body, key=key) for _ in range(8)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1, "every answer names the same request"
    assert [a.headers.get("idempotent-replayed") for a in answers].count(None) == 1
    request_id = answers[0].json()["id"]
    await client.until_tracked(request_id, "routed")
    timeline = await client.timeline(request_id)
    assert [e["type"] for e in timeline].count("mla.request.received") == 1


async def test_submissions_arriving_together_are_each_stored_as_sent_with_a_number_of_their_own(
    client: Client,
) -> None:
    # intake stores the submissions that arrive together in one pass (change 50): none may
    # take another's number, details or key.
    bodies = [a_request() for _ in range(24)]
    keys = [f"together-{n}-{b['requesting_authority']['reference']}" for n, b in enumerate(bodies)]
    answers = await asyncio.gather(
        *(
            client.submit(body, key=key if n % 2 else None)
            for n, (body, key) in enumerate(zip(bodies, keys, strict=True))
        )
    )

    assert [a.status_code for a in answers] == [201] * 24
    created = [a.json() for a in answers]
    assert len({c["id"] for c in created}) == len({c["domestic_reference"] for c in created}) == 24
    for body, request in zip(bodies, created, strict=True):
        stored = await client.http.get(client.url("intake", f"/v1/requests/{request['id']}"))
        assert stored.json()["details"] == request["details"]
        sent = body["requesting_authority"]["reference"]
        assert stored.json()["details"]["requesting_authority"]["reference"] == sent
        # Answered in the clear, as sent (stored sealed).
        assert request["details"]["summary_of_facts"] == body["summary_of_facts"]
    again = await client.submit(bodies[1], key=keys[1])
    assert again.json()["id"] == created[1]["id"]
    assert again.headers["idempotent-replayed"] == "true"
    for request in created:
        view = await client.until_tracked(request["id"], "routed")
        assert view["domestic_reference"] == request["domestic_reference"]


async def test_an_invalid_request_is_refused_field_by_field_and_nothing_is_published(
    client: Client,
) -> None:
    marker = a_request()["requesting_authority"]["reference"]
    bad = a_request(urgency="urgent", urgency_reasons=None, requested_date="2020-01-01")
    bad["requesting_authority"]["reference"] = marker
    bad["measures"] = [
        {"type": "teleportation", "place": "Subotica"},
        {"type": "hearing_witness", "place": "Atlantis"},
    ]
    response = await client.submit(bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"measures.0.type", "measures.1.place", "urgency_reasons", "requested_date"} <= fields

    # A valid request submitted afterwards reaches tracking; the invalid one never did.
    after = (await client.submit(a_request())).json()["id"]
    await client.until_tracked(after, "routed")
    found = await client.http.get(client.url("tracking", "/v1/requests"), params={"q": marker})
    assert found.status_code == 200
    assert found.json()["items"] == []


async def test_a_withdrawn_request_is_closed_and_accepts_nothing_more(client: Client) -> None:
    request_id = (await client.submit(a_request())).json()["id"]
    withdrawn = await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/withdrawal"),
        json={"reason": "case dropped"},
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["outcome"] == "withdrawn"
    view = await client.until_tracked(request_id, "closed")
    assert view["outcome"] == "withdrawn"


def _largest_request(character: str) -> dict[str, Any]:
    """Every free text at its longest, written in a character of `len(character.encode())`
    bytes: a valid request whose body stays under intake's 1 MiB."""
    body = a_request(summary_of_facts=character * 10000, urgency_reasons=character * 2000)
    body["persons"] = [{**body["persons"][0], "name": character * 200} for _ in range(200)]
    body["measures"] = [{**body["measures"][0], "details": character * 2000} for _ in range(100)]
    body["offences"] = [
        {**body["offences"][0], "qualification": character * 300} for _ in range(50)
    ]
    body["related_requests"] = [
        {"reference": character * 100, "relation": character * 300} for _ in range(50)
    ]
    return body


async def test_a_request_too_large_to_publish_is_refused_and_holds_nothing_up(
    client: Client,
) -> None:
    # Sealed, the personal texts grow by a third: this body (0.9 MB, accepted by the body
    # limit) would make an event larger than the broker takes.
    too_large = _largest_request("中")
    response = await client.submit(too_large, key=f"big-{uuid.uuid4().hex}")

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "bytes" in problem["detail"] and "measures" in problem["detail"]

    # Not stored, so not published: what is submitted next goes through as ever.
    largest = (await client.submit(_largest_request("Ж"))).json()["id"]
    after = (await client.submit(a_request())).json()["id"]
    await client.until_tracked(largest, "routed")
    await client.until_tracked(after, "routed")
