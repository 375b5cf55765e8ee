"""Routing as operators, executing offices and requesting authorities live it, end to end.

An operator previews where a request would go, routes by hand what the rules cannot place and
re-routes with a reason; an executing office declines what it is not competent for and reports
what it did; the department closes with the answer that goes back. Every refusal is problem
details. The stack is shared by the e2e tests of a worker: directory edits here touch only
contacts, never territory or roles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shared.db import create_engine
from shared.eventstore import event_store_tables
from tests.support.api import Client, a_request
from tests.support.auth import bearer
from tests.support.infra import eventually

pytestmark = pytest.mark.e2e

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


# -- 1. preview -----------------------------------------------------------------------------


async def test_an_operator_previews_a_cybercrime_preservation_and_nothing_is_created(
    client: Client,
) -> None:
    body = a_cybercrime_preservation_request()

    response = await preview(client, body)

    assert response.status_code == 200, response.text
    decision = response.json()
    assert (decision["routed"], decision["failure"]) == (True, None)
    [assignment] = decision["assignments"]
    assert assignment["office_id"] == "vtk-beograd"
    assert assignment["rule"] == "high_tech_crime"
    assert assignment["measures"] == [
        {"index": 0, "type": "preservation_of_data", "place": "Novi Beograd"}
    ]
    assert "whole country" in assignment["basis"]
    assert [(step["rule"], step["matched"]) for step in decision["trace"]] == [
        ("direction_check", False),
        ("measures_check", False),
        ("channel_check", False),
        ("war_crimes", False),
        ("organized_crime", False),
        ("high_tech_crime", True),
    ]
    assert all(step["reason"] for step in decision["trace"])
    assert not {"id", "request_id", "domestic_reference"} & decision.keys()

    # A request submitted after the preview reaches tracking; the previewed one never did.
    after = await routed_request(client)
    previewed = await client.http.get(
        client.url("tracking", "/v1/requests"),
        params={"q": body["requesting_authority"]["reference"]},
    )
    assert previewed.json()["items"] == []
    assert await client.tracked(after) is not None


async def test_a_corruption_measure_in_kragujevac_previews_to_the_kraljevo_department(
    client: Client,
) -> None:
    body = a_request(
        offence_category="corruption",
        offences=[
            {
                "qualification": "Criminal Code of Serbia art. 359 (abuse of office)",
                "category": "corruption",
                "max_penalty_years": 8,
                "criminal_code_article": 359,
            }
        ],
        measures=[{"type": "production_of_documents", "place": "Kragujevac"}],
    )

    decision = (await preview(client, body)).json()

    assert [(a["office_id"], a["rule"]) for a in decision["assignments"]] == [
        ("acd-kraljevo", "anti_corruption")
    ]
    assert "Kragujevac appellate area" in decision["assignments"][0]["basis"]
    assert decision["trace"][-1] == {
        "rule": "anti_corruption",
        "matched": True,
        "reason": "corruption below the Organized Crime thresholds: measure 0 to acd-kraljevo",
    }


async def test_a_preview_with_an_unknown_place_names_the_measure_to_correct(
    client: Client,
) -> None:
    body = a_request(measures=[{"type": "hearing_witness", "place": "Atlantida"}])

    problem = assert_problem(await preview(client, body), 422)

    assert fields_of(problem) == {"measures.0.place"}
    assert "measures.0.place" in problem["detail"]


# -- 2. a request no rule can place, routed by hand -----------------------------------------


async def a_request_that_failed_routing(client: Client) -> str:
    request_id = await submitted(client, a_request(direction="outgoing"))
    await client.until_tracked(request_id, "routing_failed")
    return request_id


async def test_a_request_no_rule_can_place_waits_and_an_operator_routes_it_by_hand(
    client: Client,
) -> None:
    request_id = await a_request_that_failed_routing(client)
    view = await client.tracked(request_id)
    assert view is not None
    assert "outgoing request" in view["routing_failure"]
    assert view["assignments"] == []
    waiting = await routing_of(client, request_id)
    assert waiting["status"] == "routing_failed"
    assert waiting["trace"] == [
        {
            "rule": "direction_check",
            "matched": True,
            "reason": "outgoing request: it is executed abroad, no domestic office to route to",
        }
    ]

    response = await route_by_hand(
        client,
        request_id,
        reason="registered as outgoing by mistake: Ljubljana asks us to search in Subotica",
        operator="operator-3",
        assignments=[{"office_id": "vjt-subotica", "measures": [0, 1]}],
    )

    assert response.status_code == 200, response.text
    routing = response.json()
    assert (routing["status"], routing["failure"]) == ("routed", None)
    [assignment] = routing["assignments"]
    assert (assignment["office_id"], assignment["rule"]) == ("vjt-subotica", "manual")
    assert [m["index"] for m in assignment["measures"]] == [0, 1]
    view = await client.until_tracked(request_id, "routed")
    assert (view["offices"], view["routing_failure"]) == (["vjt-subotica"], None)
    routed = lifecycle(await client.timeline(request_id))[-1]
    assert routed["type"] == "mla.request.routed"
    assert routed["data"]["mode"] == "manual"
    assert routed["data"]["operator"] == "operator-3"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"assignments": [{"office_id": "vjt-subotica", "measures": [0, 1]}]}, "reason"),
        ({"reason": "", "assignments": [{"office_id": "vjt-subotica", "measures": [0]}]}, "reason"),
        (
            {"reason": "by hand", "assignments": [{"office_id": "vjt-atlantida", "measures": [0]}]},
            "no office 'vjt-atlantida'",
        ),
        (
            {"reason": "by hand", "assignments": [{"office_id": "vjt-subotica", "measures": [5]}]},
            "measure 5 does not exist",
        ),
    ],
    ids=["without-reason", "empty-reason", "unknown-office", "unknown-measure"],
)
async def test_routing_by_hand_is_refused_when_it_cannot_be_carried_out(
    client: Client, body: dict[str, Any], says: str
) -> None:
    request_id = await a_request_that_failed_routing(client)

    problem = assert_problem(await route_by_hand(client, request_id, **body), 422)

    assert says in problem["detail"] or says in fields_of(problem)
    still = await routing_of(client, request_id)
    assert (still["status"], still["assignments"]) == ("routing_failed", [])


async def test_routing_by_hand_a_request_routing_never_received_is_not_found(
    client: Client,
) -> None:
    response = await route_by_hand(
        client,
        "00000000-0000-0000-0000-000000000000",
        reason="by hand",
        assignments=[{"office_id": "vjt-subotica", "measures": [0]}],
    )

    assert "00000000-0000-0000-0000-000000000000" in assert_problem(response, 404)["detail"]


async def test_routing_by_hand_must_give_every_measure_an_office(client: Client) -> None:
    request_id = await a_request_that_failed_routing(client)

    response = await route_by_hand(
        client,
        request_id,
        reason="the search in Subotica is enough",
        assignments=[{"office_id": "vjt-subotica", "measures": [0]}],
    )

    problem = assert_problem(response, 422)
    assert "measure 1" in problem["detail"]


# -- 3. an executing office that is not competent ------------------------------------------


async def test_an_office_that_is_not_competent_declines_and_the_request_goes_elsewhere(
    client: Client,
) -> None:
    request_id = await routed_request(client, a_request(offences=[BASIC_OFFENCE]))
    before = await assignment_ids(client, request_id)
    assert before.keys() == {"ojt-subotica", "ojt-novi-sad"}

    response = await decline(
        client,
        before["ojt-subotica"],
        "the transport company is part of a group our higher office investigates",
    )

    assert response.status_code == 200, response.text
    routing = response.json()
    assert routing["status"] == "routed"
    assert routing["declined_offices"] == ["ojt-subotica"]
    now = by_office(routing["assignments"])
    assert now.keys() == {"vjt-subotica", "ojt-novi-sad"}
    assert now["ojt-novi-sad"]["assignment_id"] == before["ojt-novi-sad"]
    assert now["vjt-subotica"]["assignment_id"] != before["ojt-subotica"]
    assert [m["index"] for m in now["vjt-subotica"]["measures"]] == [0]
    assert now["vjt-subotica"]["inferred"] is True  # competent by elimination: to confirm

    view = await until_view(
        client,
        request_id,
        lambda v: set(v["offices"]) == {"vjt-subotica", "ojt-novi-sad"},
        "re-routed to vjt-subotica",
    )
    assert (view["status"], view["declined_offices"]) == ("routed", ["ojt-subotica"])
    entries = lifecycle(await client.timeline(request_id))
    assert [e["type"] for e in entries] == [
        "mla.request.received",
        "mla.request.routed",
        "mla.request.assignment_declined",
        "mla.request.routed",
    ]
    declined, rerouted = entries[2]["data"], entries[3]["data"]
    assert (declined["office_id"], declined["assignment_id"]) == (
        "ojt-subotica",
        before["ojt-subotica"],
    )
    assert "higher office investigates" in declined["reason"]
    assert (rerouted["mode"], rerouted["rerouted"]) == ("automatic", True)

    # notify has what it needs to tell the requester that the request was forwarded.
    async def notify_has_it() -> bool:
        response = await client.http.get(client.url("notify", f"/v1/requests/{request_id}/events"))
        return "mla.request.assignment_declined" in {i["type"] for i in response.json()["items"]}

    await eventually(notify_has_it, what="notify took in the assignment_declined event")
    # The office that declined has nothing left to report on.
    gone = assert_problem(await client.report(before["ojt-subotica"]), 404)
    assert before["ojt-subotica"] in gone["detail"]


async def declined_with_no_office_left(client: Client) -> tuple[str, str]:
    """The example request (12 years: higher offices only) after vjt-subotica declined:
    no other office can take the search, the hearing stays with vjt-novi-sad."""
    request_id = await routed_request(client)
    ids = await assignment_ids(client, request_id)
    response = await decline(client, ids["vjt-subotica"], "the company is seated in Sombor")
    assert response.status_code == 200, response.text
    routing = response.json()
    assert routing["status"] == "routing_failed"
    assert "vjt-subotica declined this request" in routing["failure"]
    assert [a["assignment_id"] for a in routing["assignments"]] == [ids["vjt-novi-sad"]]
    await client.until_tracked(request_id, "routing_failed")
    return request_id, ids["vjt-novi-sad"]


async def test_a_declined_measure_no_other_office_can_take_waits_for_an_operator(
    client: Client,
) -> None:
    request_id, novi_sad = await declined_with_no_office_left(client)
    view = await client.tracked(request_id)
    assert view is not None
    assert view["declined_offices"] == ["vjt-subotica"]
    assert "no other territorial office can take it" in view["routing_failure"]
    assert [e["type"] for e in lifecycle(await client.timeline(request_id))][-2:] == [
        "mla.request.assignment_declined",
        "mla.request.routing_failed",
    ]

    response = await route_by_hand(
        client,
        request_id,
        reason="vjt-subotica declined: the company is seated in Sombor",
        assignments=[
            {"office_id": "vjt-sombor", "measures": [0]},
            {"office_id": "vjt-novi-sad", "measures": [1]},
        ],
    )

    assert response.status_code == 200, response.text
    assert by_office(response.json()["assignments"])["vjt-novi-sad"]["assignment_id"] == novi_sad
    view = await client.until_tracked(request_id, "routed")
    assert set(view["offices"]) == {"vjt-sombor", "vjt-novi-sad"}


async def test_a_request_with_a_measure_waiting_for_an_office_cannot_close_as_completed(
    client: Client,
) -> None:
    request_id, novi_sad = await declined_with_no_office_left(client)
    assert (await client.report(novi_sad)).status_code == 200
    await until_intake_saw_report(client, request_id, novi_sad)

    problem = assert_problem(
        await close(client, request_id, outcome="completed", answer_summary="witness heard"), 409
    )

    assert problem["state"] == "routing_failed"
    assert (await routing_of(client, request_id))["status"] == "routing_failed"
    view = await until_view(
        client,
        request_id,
        lambda v: [a["result"] for a in v["assignments"]] == ["executed"],
        "tracking saw the report",
    )
    assert view["status"] == "routing_failed"  # the search still waits for an operator


# -- 4. re-routing by hand ------------------------------------------------------------------


async def test_an_operator_reroutes_a_routed_request_by_hand_with_a_reason(
    client: Client,
) -> None:
    request_id = await routed_request(client)
    before = await assignment_ids(client, request_id)
    reason = "the shipments were run by an organised group: the search goes to Organized Crime"

    response = await route_by_hand(
        client,
        request_id,
        reason=reason,
        operator="operator-7",
        assignments=[
            {"office_id": "tuzilastvo-za-organizovani-kriminal", "measures": [0]},
            {"office_id": "vjt-novi-sad", "measures": [1]},
        ],
    )

    assert response.status_code == 200, response.text
    now = by_office(response.json()["assignments"])
    assert now["vjt-novi-sad"]["assignment_id"] == before["vjt-novi-sad"]
    assert now.keys() == {"tuzilastvo-za-organizovani-kriminal", "vjt-novi-sad"}
    await until_view(
        client,
        request_id,
        lambda v: set(v["offices"]) == {"tuzilastvo-za-organizovani-kriminal", "vjt-novi-sad"},
        "re-routed to Organized Crime",
    )
    routed = [e for e in await client.timeline(request_id) if e["type"] == "mla.request.routed"]
    assert len(routed) == 2
    last = routed[-1]["data"]
    assert (last["mode"], last["rerouted"], last["reason"], last["operator"]) == (
        "manual",
        True,
        reason,
        "operator-7",
    )
    assert routed[0]["data"]["mode"] == "automatic"
    # The office that lost the measure can no longer report on it.
    assert_problem(await client.report(before["vjt-subotica"]), 404)


# -- 5. partial execution and closure -------------------------------------------------------


async def test_a_partially_executed_request_closes_as_partially_completed_only(
    client: Client,
) -> None:
    request_id = await routed_request(client)
    ids = await assignment_ids(client, request_id)
    partial = await client.report(ids["vjt-subotica"], "partially_executed")
    assert partial.status_code == 200, partial.text
    assert (await client.report(ids["vjt-novi-sad"], "executed")).status_code == 200
    await client.until_tracked(request_id, "executed")
    await client.until_intake_allows(request_id, "close as partially_completed")

    completed = assert_problem(await close(client, request_id, outcome="completed"), 409)
    assert completed["state"] == "executed"
    assert "not every assignment was fully executed" in completed["detail"]
    assert "close as partially_completed" in completed["allowed_actions"]
    assert "close as completed" not in completed["allowed_actions"]

    # A refusal without grounds is invalid input: the field to fill in is named.
    refused = assert_problem(await close(client, request_id, outcome="refused"), 422)
    assert [e["field"] for e in refused["errors"]] == ["grounds"]
    assert "must state its grounds" in refused["errors"][0]["message"]

    closed = await close(
        client,
        request_id,
        outcome="partially_completed",
        answer_summary="Records seized; the lorries had been sold and could not be searched.",
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == "partially_completed"
    view = await client.until_tracked(request_id, "closed")
    assert view["outcome"] == "partially_completed"
    assert {a["office_id"]: a["result"] for a in view["assignments"]} == {
        "vjt-subotica": "partially_executed",
        "vjt-novi-sad": "executed",
    }


async def test_a_report_on_an_assignment_that_does_not_exist_is_not_found(
    client: Client,
) -> None:
    problem = assert_problem(await client.report("no-such-assignment"), 404)

    assert "no-such-assignment" in problem["detail"]


# -- 6. the office directory ----------------------------------------------------------------


async def directory_version(client: Client) -> int:
    history = (await client.http.get(client.url("routing", "/v1/directory"))).json()
    version: int = history["current"]
    return version


async def office(client: Client, office_id: str) -> dict[str, Any]:
    response = await client.http.get(client.url("routing", f"/v1/offices/{office_id}"))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def contact_edit(current: dict[str, Any], contact: dict[str, str], note: str) -> dict[str, Any]:
    """The office as it stands, with only its contact changed (what OfficeEdit takes)."""
    unchanged = {k: v for k, v in current.items() if k not in {"id", "directory_version"}}
    return {**unchanged, "contact": contact, "change_note": note, "changed_by": "operator-1"}


async def test_operators_find_offices_and_an_edit_versions_the_directory(
    client: Client,
) -> None:
    higher = (await client.http.get(client.url("routing", "/v1/offices?kind=higher"))).json()
    assert len(higher["items"]) == 25
    assert {o["kind"] for o in higher["items"]} == {"higher"}
    assert "vjt-subotica" in {o["id"] for o in higher["items"]}
    subotica = await office(client, "vjt-subotica")
    assert (subotica["seat"], subotica["kind"]) == ("Subotica", "higher")
    assert "Subotica" in subotica["territory"]
    assert_problem(await client.http.get(client.url("routing", "/v1/offices/vjt-atlantida")), 404)
    version = await directory_version(client)
    contact = {"email": "mpp@su.vjt.example", "phone": "+381 24 000 000", "address": "Subotica"}

    edited = await client.http.put(
        client.url("routing", "/v1/offices/vjt-subotica"),
        json=contact_edit(subotica, contact, "new e-mail of the international unit"),
        headers=bearer("admin"),  # only an admin edits the directory
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["directory_version"] == version + 1
    history = (await client.http.get(client.url("routing", "/v1/directory"))).json()
    assert history["current"] == version + 1
    assert (history["versions"][0]["note"], history["versions"][0]["changed_by"]) == (
        "new e-mail of the international unit",
        "operator-1",
    )
    after = await office(client, "vjt-subotica")
    assert after["contact"] == contact
    assert after["territory"] == subotica["territory"]

    request_id = await routed_request(client)
    assert (await routing_of(client, request_id))["directory_version"] == version + 1
    routed = [e for e in await client.timeline(request_id) if e["type"] == "mla.request.routed"]
    assert routed[0]["data"]["directory_version"] == version + 1


# -- 7. every refusal is problem details ----------------------------------------------------


async def test_every_refusal_is_problem_details_and_a_conflict_says_what_is_allowed(
    client: Client,
) -> None:
    request_id = await routed_request(client)
    ids = await assignment_ids(client, request_id)
    assert (await client.report(ids["vjt-subotica"])).status_code == 200
    await until_intake_saw_report(client, request_id, ids["vjt-subotica"])

    early = assert_problem(await close(client, request_id, outcome="completed"), 409)
    assert early["state"] == "routed"
    assert "have not reported execution" in early["detail"]
    assert "close as completed" not in early["allowed_actions"]

    twice = assert_problem(await client.report(ids["vjt-subotica"]), 409)
    assert "already reported" in twice["detail"]
    assert twice["allowed_actions"] == [
        "route by hand",
        "report execution",
        "decline an assignment",
    ]

    late = assert_problem(await decline(client, ids["vjt-subotica"], "not ours after all"), 409)
    assert "cannot decline" in late["detail"]

    bad_report = await client.http.post(
        client.url("routing", f"/v1/assignments/{ids['vjt-novi-sad']}/execution"),
        json={"result": "done"},
    )
    assert fields_of(assert_problem(bad_report, 422)) == {"result"}
    bad_closure = assert_problem(await close(client, request_id, outcome="finished"), 422)
    assert fields_of(bad_closure) == {"outcome"}
    no_office = await route_by_hand(
        client,
        request_id,
        reason="by hand",
        assignments=[{"office_id": "vjt-atlantida", "measures": [0]}],
    )
    assert assert_problem(no_office, 422)["type"].endswith("/invalid-routing")


# -- concurrent commands on one request -----------------------------------------------------


async def test_two_simultaneous_reports_for_one_assignment_never_both_succeed(
    client: Client,
) -> None:
    request_id = await routed_request(client)
    ids = await assignment_ids(client, request_id)
    subotica = ids["vjt-subotica"]

    responses = await asyncio.gather(
        client.report(subotica, "executed"), client.report(subotica, "partially_executed")
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    loser = assert_problem(next(r for r in responses if r.status_code == 409), 409)
    assert "already reported" in loser["detail"] or loser["type"].endswith(
        "/concurrent-modification"
    )
    winner = next(r for r in responses if r.status_code == 200).json()
    result = {a["assignment_id"]: a["result"] for a in winner["assignments"]}[subotica]
    stored = await stored_events(client.stack.database_urls["routing"], request_id)
    assert [e["data"]["result"] for e in stored if e["type"] == "mla.request.executed"] == [result]

    # The other office's report comes after any event of the loser on the topic.
    assert (await client.report(ids["vjt-novi-sad"])).status_code == 200
    await client.until_tracked(request_id, "executed")
    executed = [
        e["data"]
        for e in await client.timeline(request_id)
        if e["type"] == "mla.request.executed" and e["data"]["assignment_id"] == subotica
    ]
    assert [e["result"] for e in executed] == [result]


async def test_a_closure_and_a_withdrawal_at_the_same_moment_close_the_request_once(
    client: Client,
) -> None:
    request_id = await routed_request(client)
    for assignment_id in (await assignment_ids(client, request_id)).values():
        assert (await client.report(assignment_id)).status_code == 200
    await client.until_intake_allows(request_id, "close as completed")

    responses = await asyncio.gather(
        close(client, request_id, outcome="completed", answer_summary="all done"),
        withdraw(client, request_id),
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 409), 409)
    outcome = next(r for r in responses if r.status_code == 200).json()["outcome"]
    stored = await stored_events(client.stack.database_urls["intake"], request_id)
    closures = [e["data"]["outcome"] for e in stored if e["type"] == "mla.request.closed"]
    assert closures == [outcome]
    view = await client.until_tracked(request_id, "closed")
    assert view["outcome"] == outcome


async def test_simultaneous_directory_edits_lose_no_accepted_edit(client: Client) -> None:
    version = await directory_version(client)
    edits = {
        office_id: contact_edit(
            await office(client, office_id),
            {"email": f"mpp@{office_id}.example"},
            f"contact of {office_id}",
        )
        for office_id in ("vjt-sombor", "vjt-zrenjanin")
    }

    responses = dict(
        zip(
            edits,
            await asyncio.gather(
                *(
                    client.http.put(
                        client.url("routing", f"/v1/offices/{o}"),
                        json=body,
                        headers=bearer("admin"),
                    )
                    for o, body in edits.items()
                )
            ),
            strict=True,
        )
    )

    accepted = [o for o, r in responses.items() if r.status_code == 200]
    for office_id, response in responses.items():
        if office_id not in accepted:
            assert_problem(response, 409)
    assert accepted
    assert await directory_version(client) == version + len(accepted)
    for office_id in accepted:
        assert (await office(client, office_id))["contact"]["email"] == f"mpp@{office_id}.example"
