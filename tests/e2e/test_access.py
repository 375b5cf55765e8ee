"""On the running stack: a requesting authority and an executing office reach only their own.

For every endpoint that takes a resource id and is open to authorities or offices (the
routes are enumerated from the apps, tests/support/routes.py), another authority and
another office get exactly the 404 of a resource that does not exist, and the owner gets
its resource. Lists show each caller its own only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.auth.policy import RULES, Party
from tests.support.api import Client, a_request
from tests.support.auth import EXAMPLE_AUTHORITY, bearer
from tests.support.infra import eventually
from tests.support.routes import action, endpoints
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

OTHERS = {
    Party.AUTHORITY: bearer("authority", authority="fr-pnf-paris"),
    # The example request goes to vjt-subotica and vjt-novi-sad; vjt-nis holds none of it.
    Party.OFFICE: bearer("office", office_id="vjt-nis"),
}
# The smallest valid body of each endpoint that changes something, so that a 404 (not a
# 422) is what the caller gets; a new such endpoint needs its body here.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/requests/{request_id}/withdrawal"): {"reason": "no longer needed"},
    ("POST", "/v1/assignments/{assignment_id}/execution"): {"result": "executed"},
    ("POST", "/v1/assignments/{assignment_id}/declination"): {"reason": "not competent"},
}
# Path parameters that name something a party owns, and those that name reference data
# everyone may read (the office directory). A new parameter must be placed in one of them.
OWNED_PARAMETERS = {"request_id", "assignment_id", "subscription_id"}
REFERENCE_PARAMETERS = {"office_id"}
PARTY_ENDPOINTS = [
    (service, method, path, party)
    for service, method, path in endpoints()
    for party in sorted(RULES[action(service, method, path)].parties & set(OTHERS))
]
OWNED_ENDPOINTS = [
    endpoint
    for endpoint in PARTY_ENDPOINTS
    if set(re.findall(r"\{(\w+)\}", endpoint[2])) & OWNED_PARAMETERS
]


@dataclass
class Owned:
    request_id: str
    assignment_id: str  # vjt-subotica's
    subscription_id: str  # the example authority's


@pytest.fixture(scope="module")
async def owned(stack: RunningStack) -> AsyncIterator[Owned]:
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        client = Client(stack, http)
        created = await client.submit(a_request())  # as the example authority
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        assert created.json()["authority"] == EXAMPLE_AUTHORITY
        await client.until_tracked(request_id, "routed")
        offices = {a["office_id"]: a["assignment_id"] for a in await client.assignments(request_id)}
        subscribed = await http.post(
            client.url("notify", "/v1/subscriptions"),
            json={
                "channel": "email",
                "recipients": ["pisarna@dt-lj.example.si"],
                "event_types": ["mla.request.closed"],
            },
            headers=bearer("authority"),
        )
        assert subscribed.status_code == 201, subscribed.text

        async def notify_knows_it() -> bool:
            path = f"/v1/requests/{request_id}/events"
            response = await http.get(client.url("notify", path), headers=bearer("authority"))
            return response.status_code == 200 and bool(response.json()["items"])

        await eventually(notify_knows_it, what="notify took in the request")
        yield Owned(request_id, offices["vjt-subotica"], subscribed.json()["id"])


async def call(
    stack: RunningStack, service: str, method: str, path: str, ids: dict[str, str], **kw: Any
) -> httpx.Response:
    url = stack.url(service) + re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
    body = BODIES.get((method, path))
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.request(method, url, json=body, **kw)


def test_every_endpoint_that_takes_an_id_and_is_open_to_a_party_is_in_the_matrix() -> None:
    parameters = {
        name for _, _, path, _ in PARTY_ENDPOINTS for name in re.findall(r"\{(\w+)\}", path)
    }
    assert parameters <= OWNED_PARAMETERS | REFERENCE_PARAMETERS
    changing = {(m, p) for _, m, p, _ in OWNED_ENDPOINTS if m != "GET" and m != "DELETE"}
    assert changing <= set(BODIES), "give the new endpoint its smallest valid body"
    assert {p for _, _, p, _ in OWNED_ENDPOINTS} >= {
        "/v1/requests/{request_id}",
        "/v1/assignments/{assignment_id}/execution",
        "/v1/subscriptions/{subscription_id}",
    }


@pytest.mark.parametrize(("service", "method", "path", "party"), OWNED_ENDPOINTS)
async def test_another_authority_or_office_gets_the_404_of_a_missing_resource(
    stack: RunningStack, owned: Owned, service: str, method: str, path: str, party: Party
) -> None:
    ids = vars(owned) | {}
    theirs = await call(stack, service, method, path, ids, headers=OTHERS[party])
    missing = {name: "00000000-0000-4000-8000-000000000000" for name in ids}
    absent = await call(stack, service, method, path, missing, headers=OTHERS[party])

    assert theirs.status_code == 404, theirs.text
    assert absent.status_code == 404, absent.text
    assert theirs.json()["type"] == absent.json()["type"]
    assert theirs.headers["content-type"].startswith("application/problem+json")


async def test_the_owner_reads_what_the_others_cannot(stack: RunningStack, owned: Owned) -> None:
    ids = vars(owned)
    authority, office = bearer("authority"), bearer("office", office_id="vjt-subotica")
    for service, path, who in [
        ("intake", "/v1/requests/{request_id}", authority),
        ("tracking", "/v1/requests/{request_id}", authority),
        ("tracking", "/v1/requests/{request_id}/timeline", office),
        ("routing", "/v1/requests/{request_id}/assignments", office),
        ("notify", "/v1/subscriptions/{subscription_id}", authority),
        ("notify", "/v1/requests/{request_id}/events", office),
    ]:
        response = await call(stack, service, "GET", path, ids, headers=who)
        assert response.status_code == 200, (path, response.text)


async def test_lists_show_each_caller_its_own(stack: RunningStack, owned: Owned) -> None:
    async def listed(service: str, path: str, who: dict[str, str], key: str) -> set[str]:
        response = await call(stack, service, "GET", path, {}, headers=who, params={})
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        return {item[key] for item in items}

    def tracked(who: dict[str, str]) -> Any:
        return listed("tracking", "/v1/requests", who, "request_id")

    assert owned.request_id in await tracked(bearer("authority"))
    assert owned.request_id in await tracked(bearer("office"))
    assert owned.request_id not in await tracked(OTHERS[Party.AUTHORITY])
    assert owned.request_id not in await tracked(OTHERS[Party.OFFICE])

    subscriptions = ("notify", "/v1/subscriptions")
    assert owned.subscription_id in await listed(*subscriptions, bearer("authority"), "id")
    assert owned.subscription_id in await listed(*subscriptions, bearer("operator"), "id")
    assert owned.subscription_id not in await listed(*subscriptions, OTHERS[Party.AUTHORITY], "id")

    assignments = f"/v1/requests/{owned.request_id}/assignments"
    own = await listed(
        "routing", assignments, bearer("office", office_id="vjt-subotica"), "office_id"
    )
    assert own == {"vjt-subotica"}
    deadlines = await listed("tracking", "/v1/deadlines", OTHERS[Party.OFFICE], "request_id")
    assert owned.request_id not in deadlines


async def test_an_authority_may_not_subscribe_to_an_offices_or_the_operators_messages(
    stack: RunningStack,
) -> None:
    for audience in ({"role": "operators"}, {"office_id": "vjt-subotica"}):
        body = {"channel": "email", "recipients": ["a@example.si"], **audience}
        async with httpx.AsyncClient(timeout=15) as http:
            response = await http.post(
                stack.url("notify") + "/v1/subscriptions", json=body, headers=bearer("authority")
            )
        assert response.status_code == 403, response.text


async def test_metrics_need_an_operators_token(stack: RunningStack) -> None:
    async with httpx.AsyncClient(timeout=15) as http:
        url = stack.url("routing") + "/metrics"
        assert (await http.get(url)).status_code == 401
        assert (await http.get(url, headers=bearer("authority"))).status_code == 403
        allowed = await http.get(url, headers=bearer("operator"))
    assert allowed.status_code == 200
    assert "mla_http_requests" in allowed.text or "# HELP" in allowed.text
