"""Executing offices and the department, end to end: an office that is not competent
declines and the request goes elsewhere (or waits for an operator when no office is left),
offices report execution, the department closes with the answer that goes back (partially
completed only when not every assignment was fully executed), every refusal is problem
details saying what is allowed, and simultaneous reports, or a closure and a withdrawal at
the same moment, take effect once. The stack is shared by the e2e tests of a worker.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.api import Client, a_request
from tests.support.infra import eventually
from tests.support.routing_journeys import (
    BASIC_OFFENCE,
    assert_problem,
    assignment_ids,
    by_office,
    close,
    decline,
    every_office_reports,
    fields_of,
    lifecycle,
    route_by_hand,
    routed_request,
    routing_of,
    stored_events,
    until_intake_saw_report,
    until_view,
    withdraw,
)

pytestmark = pytest.mark.e2e


# -- an executing office that is not competent ---------------------------------------------


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


# -- partial execution and closure ----------------------------------------------------------


async def test_the_department_closes_as_soon_as_tracking_shows_the_last_report(
    client: Client,
) -> None:
    # The report reaches intake through the topic, a moment after tracking may show it:
    # the closure waits that moment instead of being refused.
    request_id = await routed_request(client)
    await every_office_reports(client, request_id)
    await client.until_tracked(request_id, "executed")

    closed = await close(client, request_id, outcome="completed", answer_summary="Done.")

    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"


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


# -- every refusal is problem details -------------------------------------------------------


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
    await every_office_reports(client, request_id)
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
