"""Tracking as operators read it, end to end: the list and each of its filters, search,
sort, date range and paging (and a cursor it never handed out), a request's detail with each
deadline and its basis, the statistics, the deadlines listed by state, and a deadline due
soon announced once.

The stack is shared by the e2e tests of a worker, so every assertion about the list is
narrowed to the requests this module submits (the `submitted` fixture: their foreign
references share a marker that `q` finds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.support.api import Client
from tests.support.tracking_audit import (
    Submitted,
    alerts_of,
    assert_problem,
    get_json,
    listed,
    page,
)

pytestmark = pytest.mark.e2e


# -- the list --------------------------------------------------------------------------------


async def test_each_filter_of_the_list_narrows_it_to_the_requests_that_match(
    client: Client, submitted: Submitted
) -> None:
    async def mine(**params: Any) -> set[str]:
        return set(await listed(client, q=submitted.marker, **params))

    everything = submitted.of(*submitted.ids)
    assert await mine() == everything
    assert await mine(country="AT") == submitted.of("corruption_at", "withdrawn_at")
    assert await mine(country="at") == submitted.of("corruption_at", "withdrawn_at")
    assert await mine(offence_category="corruption") == submitted.of(
        "corruption_at", "corruption_ministry"
    )
    assert await mine(urgency="urgent") == submitted.of("drugs_si", "due_tomorrow")
    assert await mine(urgency="normal") == submitted.of(
        "corruption_at", "corruption_ministry", "withdrawn_at"
    )
    assert await mine(channel="ministry_of_justice") == submitted.of("corruption_ministry")
    assert await mine(channel="direct") == everything - submitted.of("corruption_ministry")
    assert await mine(status="closed") == submitted.of("withdrawn_at")
    assert await mine(status="routed") == everything - submitted.of("withdrawn_at")
    assert await mine(status=["routed", "closed"]) == everything
    assert await mine(country="AT", offence_category="corruption") == submitted.of("corruption_at")
    assert await mine(due_soon=True) == submitted.of("due_tomorrow")
    assert await mine(overdue=True) == set()

    views = {item["request_id"]: item for item in (await page(client, q=submitted.marker))["items"]}
    offices = {office for view in views.values() for office in view["offices"]}
    assert len(offices) > 1
    for office in offices:
        expected = {request_id for request_id, view in views.items() if office in view["offices"]}
        assert await mine(office=office) == expected, office


async def test_q_finds_a_request_by_its_references_or_its_authority_in_any_case(
    client: Client, submitted: Submitted
) -> None:
    domestic = (await client.tracked(submitted["corruption_ministry"]) or {})["domestic_reference"]

    assert await listed(client, q=domestic) == [submitted["corruption_ministry"]]
    assert await listed(client, q=domestic.lower()) == [submitted["corruption_ministry"]]
    assert await listed(client, q=submitted.authority_token.upper()) == [submitted["corruption_at"]]
    assert await listed(client, q=f"Kt {submitted.marker}-3/") == [submitted["due_tomorrow"]]
    assert await listed(client, q=f"{submitted.marker}%") == []  # a wildcard is only text


async def test_the_list_is_sorted_by_receipt_in_either_direction(
    client: Client, submitted: Submitted
) -> None:
    assert await listed(client, q=submitted.marker, sort="received_at") == submitted.in_order
    assert await listed(client, q=submitted.marker, sort="-received_at") == list(
        reversed(submitted.in_order)
    )
    assert await listed(client, q=submitted.marker) == list(reversed(submitted.in_order))


async def test_received_from_and_to_keep_the_requests_received_in_between(
    client: Client, submitted: Submitted
) -> None:
    items = (await page(client, q=submitted.marker, sort="received_at"))["items"]
    received = [item["received_at"] for item in items]
    assert received == sorted(received)

    between = await listed(
        client, q=submitted.marker, received_from=received[1], received_to=received[3]
    )

    # From is inclusive, to is exclusive.
    assert set(between) == submitted.of("corruption_at", "corruption_ministry")


@pytest.mark.parametrize("sort", ["received_at", "-received_at"])
async def test_pages_of_two_walk_the_list_without_duplicates_or_gaps(
    client: Client, submitted: Submitted, sort: str
) -> None:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"q": submitted.marker, "sort": sort, "limit": 2}
        body = await page(client, **params, **({"cursor": cursor} if cursor else {}))
        pages.append([item["request_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the cursor never ends"

    assert [len(ids) for ids in pages] == [2, 2, 1]
    walked = [request_id for ids in pages for request_id in ids]
    assert walked == await listed(client, q=submitted.marker, sort=sort)


# Not base64 JSON; ["x"]; {}; ["yesterday","x"] (base64 JSON, but not a cursor's key).
@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJ4Il0=", "e30=", "WyJ5ZXN0ZXJkYXkiLCJ4Il0="])
async def test_a_cursor_this_service_did_not_hand_out_is_a_422_naming_the_cursor(
    client: Client, cursor: str
) -> None:
    response = await client.http.get(
        client.url("tracking", "/v1/requests"), params={"cursor": cursor}
    )

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["cursor"]


# -- one request -----------------------------------------------------------------------------


async def test_the_detail_shows_the_state_the_assignments_and_each_deadline_with_its_basis(
    client: Client, submitted: Submitted
) -> None:
    detail = await get_json(client, f"/v1/requests/{submitted['drugs_si']}")

    assert detail["status"] == "routed"
    assert detail["country"] == "SI" and detail["urgency"] == "urgent"
    assert detail["domestic_reference"].startswith("MPP-")
    assert detail["details"]["requesting_authority"]["reference"] == f"Kt {submitted.marker}-0/2026"
    assert detail["assignments"], detail
    assert sorted({a["office_id"] for a in detail["assignments"]}) == detail["offices"]
    assert all(a["measures"] and a["result"] is None for a in detail["assignments"])
    deadlines = {d["kind"]: d for d in detail["deadlines"]}
    assert set(deadlines) == {"acknowledge", "decide", "execute"}
    for deadline in deadlines.values():
        assert deadline["basis"].startswith(f"rule {deadline['rule_id']}: ")
        assert datetime.fromisoformat(deadline["due"]) >= datetime.fromisoformat(
            deadline["due_soon_at"]
        )
    assert deadlines["acknowledge"]["state"] == deadlines["decide"]["state"] == "met"
    assert deadlines["execute"]["state"] == "on_track"
    assert "10 calendar days from routing" in deadlines["execute"]["basis"]

    soon = await get_json(client, f"/v1/requests/{submitted['due_tomorrow']}")
    execute = next(d for d in soon["deadlines"] if d["kind"] == "execute")
    assert execute["state"] == "due_soon"
    assert f"requested date {submitted.tomorrow} governs, being earlier" in execute["basis"]

    closed = await get_json(client, f"/v1/requests/{submitted['withdrawn_at']}")
    assert (closed["status"], closed["outcome"]) == ("closed", "withdrawn")
    assert {d["state"] for d in closed["deadlines"]} == {"met"}


async def test_an_unknown_request_is_a_404_problem(client: Client) -> None:
    for path in ("/v1/requests/no-such-request", "/v1/requests/no-such-request/timeline"):
        assert_problem(await client.http.get(client.url("tracking", path)), 404)


# -- statistics and deadlines ----------------------------------------------------------------


async def test_the_statistics_add_up_and_measure_each_stage(
    client: Client, submitted: Submitted
) -> None:
    stats = await get_json(client, "/v1/stats")

    assert stats["total"] >= len(submitted.ids)
    assert sum(stats["by_status"].values()) == stats["total"]
    assert sum(stats["by_country"].values()) == stats["total"]
    assert sum(stats["by_category"].values()) == stats["total"]
    assert stats["by_country"]["AT"] >= 2 and stats["by_category"]["corruption"] >= 2
    assert stats["by_status"]["closed"] >= 1
    assert len(submitted.ids) <= sum(w["received"] for w in stats["intake_per_week"])
    assert sum(w["received"] for w in stats["intake_per_week"]) <= stats["total"]
    views = (await page(client, q=submitted.marker))["items"]
    for office in {office for view in views for office in view["offices"]}:
        assert stats["by_office"][office] >= sum(office in view["offices"] for view in views)
    stages = stats["stage_hours"]
    assert set(stages) == {
        "received_to_routed",
        "routed_to_executed",
        "executed_to_closed",
        "received_to_closed",
    }
    assert stages["received_to_routed"]["count"] >= len(submitted.ids)
    assert stages["received_to_closed"]["count"] >= 1
    for stage in stages.values():
        if stage["count"]:
            assert 0 <= stage["median"] <= stage["p90"]


async def test_deadlines_are_listed_by_state_each_with_its_basis(
    client: Client, submitted: Submitted
) -> None:
    def of_mine(items: list[dict[str, Any]]) -> set[str]:
        ours = set(submitted.ids.values())
        return {item["deadline_id"] for item in items if item["request_id"] in ours}

    listing = {}
    for state in ("on_track", "due_soon", "overdue", "met"):
        items = (await get_json(client, "/v1/deadlines", state=state, limit=500))["items"]
        assert all(item["state"] == state and item["basis"] for item in items), state
        listing[state] = of_mine(items)

    assert listing["due_soon"] == {f"{submitted['due_tomorrow']}:execute"}
    assert listing["overdue"] == set()
    assert {f"{submitted['drugs_si']}:execute", f"{submitted['corruption_at']}:execute"} <= (
        listing["on_track"]
    )
    assert {f"{submitted['drugs_si']}:acknowledge", f"{submitted['withdrawn_at']}:execute"} <= (
        listing["met"]
    )
    invalid = await client.http.get(
        client.url("tracking", "/v1/deadlines"), params={"state": "late"}
    )
    assert_problem(invalid, 422)


async def test_a_deadline_due_soon_is_announced_once(client: Client, submitted: Submitted) -> None:
    [alert] = await alerts_of(client, submitted["due_tomorrow"])

    assert alert["source"] == "/mla/tracking"
    assert alert["data"]["deadline_id"] == f"{submitted['due_tomorrow']}:execute"
    assert alert["data"]["due"] == submitted.tomorrow
    assert f"requested date {submitted.tomorrow}" in alert["data"]["basis"]
    for name in ("drugs_si", "corruption_at", "withdrawn_at"):
        assert await alerts_of(client, submitted[name]) == []
