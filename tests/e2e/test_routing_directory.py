"""The office directory, end to end: operators find offices by kind and id, an admin's
edit versions the directory and the next routing records that version, and simultaneous
edits lose no accepted edit. The stack is shared by the e2e tests of a worker: directory
edits here touch only contacts, never territory or roles.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.api import Client
from tests.support.auth import bearer
from tests.support.routing_journeys import assert_problem, routed_request, routing_of

pytestmark = pytest.mark.e2e


# -- the office directory -------------------------------------------------------------------


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


# -- simultaneous directory edits ----------------------------------------------------------


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
