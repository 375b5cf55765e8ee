"""Personal data over the whole system: sealed wherever it is stored, gone everywhere once
an administrator erases it, and never in a log line.

The persons, facts and free text seeded here are distinctive (a fresh tag in each), so that
finding one of them anywhere (an API answer, the archive's export, a raw message on the
topic, a service's log) can only mean it leaked from this test.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from tests.support.api import Client, a_request
from tests.support.auth import bearer
from tests.support.infra import eventually, unique
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e
ERASED = {"erased": True}


def seeded() -> tuple[dict[str, Any], list[str]]:
    """A request full of distinctive personal data, and the texts that must not leak."""
    tag = uuid.uuid4().hex[:8]
    secrets = {
        "suspect": f"Radoslava Qx{tag} Vukmirović",
        "witness": f"Teodor Zz{tag} Mlinarić",
        "born": "1971-02-13",
        "facts": f"Smuggling by the fishing boat Jv{tag} on the Danube near Smederevo.",
        "reasons": f"The witness Kq{tag} emigrates next month.",
        "measure": f"Hear the skipper Wb{tag} about the cargo.",
        "email": f"prosecutor.{tag}@ljubljana.example",
    }
    body = a_request(
        persons=[
            {"role": "suspect", "name": secrets["suspect"], "date_of_birth": secrets["born"]},
            {"role": "witness", "name": secrets["witness"], "nationality": "RS"},
        ],
        summary_of_facts=secrets["facts"],
        urgency="urgent",
        urgency_reasons=secrets["reasons"],
        measures=[
            {"type": "hearing_witness", "place": "Smederevo", "details": secrets["measure"]},
            {"type": "search_and_seizure", "place": "Subotica"},
        ],
    )
    body["requesting_authority"]["contact"] = {"email": secrets["email"]}
    # The date of birth is searched for as written in the request, and as a date in any
    # other form a serialiser might choose.
    texts = [*secrets.values(), "13.02.1971", "1971/02/13"]
    return body, texts


def leaked(texts: list[str], content: bytes | str) -> list[str]:
    haystack = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return [t for t in texts if t in haystack]


async def submit_and_route(client: Client, body: dict[str, Any]) -> str:
    response = await client.submit(body)
    assert response.status_code == 201, response.text
    request_id: str = response.json()["id"]
    await client.until_tracked(request_id, "routed")
    return request_id


async def erase(client: Client, request_id: str, role: str = "admin") -> httpx.Response:
    return await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/erasure"),
        json={"legal_ground": "data_subject_request", "case_reference": "DPO-2026-17"},
        headers=bearer(role),
    )


async def topic_messages(stack: RunningStack) -> list[bytes]:
    """Every message on the stack's lifecycle topic, raw, from the beginning."""
    consumer = AIOKafkaConsumer(
        stack.topic,
        bootstrap_servers=stack.bootstrap,
        group_id=unique("reader"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        while batch := await consumer.getmany(timeout_ms=1500):
            values += [m.value for messages in batch.values() for m in messages if m.value]
        return values
    finally:
        await consumer.stop()


async def test_erasure_makes_the_personal_data_unreadable_everywhere_and_keeps_the_record(
    client: Client, stack: RunningStack
) -> None:
    body, texts = seeded()
    request_id = await submit_and_route(client, body)
    intake_url = client.url("intake", f"/v1/requests/{request_id}")

    # Before: the people who work on the request read it whole (once intake saw it routed).
    async def routed_in_intake() -> dict[str, Any] | None:
        found: dict[str, Any] = (await client.http.get(intake_url)).json()
        return found if found["status"] == "routed" else None

    before = await eventually(routed_in_intake, what="the request routed in intake")
    assert isinstance(before, dict)
    assert before["details"]["persons"][0]["name"] == body["persons"][0]["name"]
    tracked = await client.tracked(request_id)
    assert (
        tracked is not None and tracked["details"]["summary_of_facts"] == body["summary_of_facts"]
    )
    # Stored and published sealed: the raw messages never held it, even before erasure.
    assert leaked(texts, b"\n".join(await topic_messages(stack))) == []

    assert (await erase(client, request_id, role="operator")).status_code == 403
    response = await erase(client, request_id)
    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["personal_data_erased_at"] is not None
    assert (await erase(client, request_id)).status_code == 409

    # intake: every personal field reads erased, the rest as it was.
    after = (await client.http.get(intake_url)).json()
    for field in ("persons", "summary_of_facts", "urgency_reasons"):
        assert after["details"][field] == ERASED, field
    assert after["details"]["measures"][0] == {
        "type": "hearing_witness",
        "place": "Smederevo",
        "details": ERASED,
    }
    assert after["details"]["requesting_authority"]["contact"] == ERASED
    assert after["domestic_reference"] == before["domestic_reference"]
    assert (
        after["details"]["requesting_authority"]["reference"]
        == (body["requesting_authority"]["reference"])
    )
    assert after["status"] == before["status"] and after["assignments"] == before["assignments"]
    assert leaked(texts, (await client.http.get(intake_url)).text) == []

    # tracking: the same, once it has consumed the erasure.
    async def erased_in_tracking() -> dict[str, Any] | None:
        view = await client.tracked(request_id)
        return view if view and view.get("personal_data_erased_at") else None

    view = await eventually(erased_in_tracking, what="the erasure in tracking")
    assert isinstance(view, dict)
    assert view["details"]["persons"] == ERASED and view["details"]["summary_of_facts"] == ERASED
    assert view["status"] == "routed" and view["offices"] == tracked["offices"]
    assert view["domestic_reference"] == tracked["domestic_reference"]
    assert view["deadlines"] == tracked["deadlines"]
    tracking_text = (
        await client.http.get(client.url("tracking", f"/v1/requests/{request_id}"))
    ).text
    assert leaked(texts, tracking_text) == []

    # The timeline keeps every event, the erasure with who ordered it and why.
    timeline = await client.timeline(request_id)
    types = [entry["type"] for entry in timeline]
    assert types[:2] == ["mla.request.received", "mla.request.routed"]
    assert types[-1] == "mla.request.personal_data_erased"
    assert timeline[-1]["data"]["erased_by"] == "admin"
    assert timeline[-1]["data"]["legal_ground"] == "data_subject_request"

    # The archive still verifies, holds no readable personal data, and replays to the live.
    auditor = bearer("auditor")
    export = await client.http.get(client.url("tracking", "/v1/audit/events"), headers=auditor)
    assert export.status_code == 200 and request_id in export.text
    assert leaked(texts, export.content) == []
    verified = (
        await client.http.get(client.url("tracking", "/v1/audit/verify"), headers=auditor)
    ).json()
    assert verified["ok"] is True, verified

    async def replay_equal_to_live() -> dict[str, Any] | None:
        replayed = await client.http.post(
            client.url("tracking", "/v1/audit/replay"), json={}, headers=bearer("admin")
        )
        assert replayed.status_code == 200, replayed.text
        result: dict[str, Any] = replayed.json()
        return result if result["equal_to_live"] else None

    await eventually(replay_equal_to_live, what="a replay equal to the live models")

    # And the raw events on the topic: sealed then, unreadable now.
    assert leaked(texts, b"\n".join(await topic_messages(stack))) == []


async def test_no_log_line_of_a_whole_lifecycle_holds_the_personal_data(
    client: Client, stack: RunningStack
) -> None:
    body, texts = seeded()
    # A refused submission too: error texts are where input most often leaks into logs.
    refused = await client.submit({**body, "persons": [{"role": "nobody", "name": texts[0]}]})
    assert refused.status_code == 422

    request_id = await submit_and_route(client, body)
    for assignment in await client.assignments(request_id):
        assert (await client.report(assignment["assignment_id"])).status_code == 200
    await client.until_intake_allows(request_id, "close as completed")
    closed = await client.http.post(
        client.url("intake", f"/v1/requests/{request_id}/closure"),
        json={"outcome": "completed", "answer_summary": "The hearing record is enclosed."},
    )
    assert closed.status_code == 200, closed.text
    await client.until_tracked(request_id, "closed")
    assert (await erase(client, request_id)).status_code == 200

    async def erasure_seen_everywhere() -> bool:
        view = await client.tracked(request_id)
        return bool(view and view.get("personal_data_erased_at"))

    await eventually(erasure_seen_everywhere, what="the erasure in tracking")
    logs = sorted(stack.log_dir.glob("*.log"))
    assert {p.stem for p in logs} >= {"intake", "routing", "tracking", "notify"}
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    assert request_id in written, "the logs did record the lifecycle"
    for path in logs:
        found = leaked(texts, path.read_text(encoding="utf-8", errors="replace"))
        assert found == [], f"{path.name} logged personal data: {found}"
