"""Routing by an operator's hand, end to end: an operator previews where a request would
go (and nothing is created), routes by hand what no rule can place, is refused when the
routing cannot be carried out, and re-routes a routed request with a reason. Every refusal
is problem details. The stack is shared by the e2e tests of a worker.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Client, a_request
from tests.support.routing_journeys import (
    a_cybercrime_preservation_request,
    assert_problem,
    assignment_ids,
    by_office,
    fields_of,
    lifecycle,
    preview,
    route_by_hand,
    routed_request,
    routing_of,
    submitted,
    until_view,
)

pytestmark = pytest.mark.e2e


# -- preview --------------------------------------------------------------------------------


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


# -- a request no rule can place, routed by hand --------------------------------------------


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


# -- re-routing by hand ---------------------------------------------------------------------


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
