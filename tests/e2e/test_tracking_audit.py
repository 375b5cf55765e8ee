"""Tracking as operators and auditors use it, end to end: the list and its filters, a
request's detail and timeline, statistics, deadlines, and the archive an auditor checks
with the API and, offline, with `mla-audit`.

The stack is shared by the e2e tests of a worker, so every assertion about the list is
narrowed to the requests this module submits (their foreign references share a marker that
`q` finds). The database is tampered with only inside `try`/`finally`, which restores the
exact bytes.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from services.tracking.adapters.tables import archive
from services.tracking.audit_cli import main as mla_audit
from services.tracking.domain.archive import (
    GENESIS,
    checkpoint_from_document,
    key_id,
    load_public_key,
    signature_valid,
)
from shared.db import create_engine
from shared.personal_data import is_sealed
from tests.support.api import Client, a_request
from tests.support.auth import bearer
from tests.support.auth import token as signed_token
from tests.support.infra import eventually
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e

PERSONAL_FIELDS = ("persons", "summary_of_facts", "urgency_reasons")
PROBLEM_JSON = "application/problem+json"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CORRUPTION = {
    "offence_category": "corruption",
    "offences": [
        {"qualification": "Criminal Code of Austria § 304 (bribery)", "category": "corruption"}
    ],
    "urgency": "normal",
    "urgency_reasons": None,
}


@dataclass(frozen=True)
class Submitted:
    """This module's requests, settled: routed, one withdrawn, one with a deadline due soon."""

    marker: str  # in every foreign reference
    authority_token: str  # in the requesting authority's name of `corruption_at` only
    ids: dict[str, str]  # name -> request id, in the order submitted
    tomorrow: str  # the date `due_tomorrow` asked for

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def of(self, *names: str) -> set[str]:
        return {self.ids[name] for name in names}

    @property
    def in_order(self) -> list[str]:
        return list(self.ids.values())


@pytest.fixture(scope="module")
async def submitted(stack: RunningStack) -> AsyncIterator[Submitted]:
    marker = uuid.uuid4().hex[:12]
    token = f"wksta{uuid.uuid4().hex[:8]}"
    tomorrow = (datetime.now(ZoneInfo("Europe/Belgrade")).date() + timedelta(days=1)).isoformat()
    bodies = {
        "drugs_si": a_request(),  # urgent, Slovenia, trafficking in drugs, direct
        "corruption_at": a_request(**copy.deepcopy(CORRUPTION)),
        "corruption_ministry": a_request(
            channel="ministry_of_justice", **copy.deepcopy(CORRUPTION)
        ),
        "due_tomorrow": a_request(requested_date=tomorrow),
        "withdrawn_at": a_request(urgency="normal", urgency_reasons=None),
    }
    bodies["corruption_at"]["requesting_authority"]["name"] = f"Zentrale Staatsanwaltschaft {token}"
    for name in ("corruption_at", "withdrawn_at"):
        bodies[name]["requesting_authority"]["country"] = "AT"
    async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
        client = Client(stack, http)
        ids = {}
        for number, (name, body) in enumerate(bodies.items()):
            body["requesting_authority"]["reference"] = f"Kt {marker}-{number}/2026"
            response = await client.submit(body)
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
        for request_id in ids.values():
            await client.until_tracked(request_id, "routed")
        withdrawn = await http.post(
            client.url("intake", f"/v1/requests/{ids['withdrawn_at']}/withdrawal"),
            json={"reason": "the proceedings in Austria were discontinued"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        await client.until_tracked(ids["withdrawn_at"], "closed")
        await eventually(
            lambda: alerts_of(client, ids["due_tomorrow"]),
            what="the monitor's deadline_approaching in the timeline of the request due tomorrow",
        )
    yield Submitted(marker, token, ids, tomorrow)


# -- reading tracking ----------------------------------------------------------------------


async def page(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.http.get(client.url("tracking", "/v1/requests"), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(client: Client, **params: Any) -> list[str]:
    return [item["request_id"] for item in (await page(client, limit=200, **params))["items"]]


async def get_json(client: Client, path: str, **params: Any) -> Any:
    # An auditor reads the archive, and every request too.
    response = await client.http.get(
        client.url("tracking", path), params=params, headers=bearer("auditor")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def alerts_of(client: Client, request_id: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in await client.timeline(request_id)
        if entry["type"] == "mla.request.deadline_approaching"
    ]


async def exported(client: Client, from_position: int = 1) -> list[bytes]:
    """The archive's NDJSON lines from a position."""
    response = await client.http.get(
        client.url("tracking", "/v1/audit/events"),
        params={"from_position": from_position},
        headers=bearer("auditor"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.content.splitlines()


def by_position(lines: list[bytes]) -> dict[int, dict[str, Any]]:
    entries = [json.loads(line) for line in lines]
    return {entry["position"]: entry for entry in entries}


async def verification(client: Client) -> dict[str, Any]:
    result: dict[str, Any] = await get_json(client, "/v1/audit/verify")
    return result


async def replayed(client: Client, **body: Any) -> dict[str, Any]:
    response = await client.http.post(
        client.url("tracking", "/v1/audit/replay"), json=body, headers=bearer("admin")
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


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


async def test_the_timeline_gives_each_event_its_archive_position_and_chained_hash(
    client: Client, submitted: Submitted
) -> None:
    timeline = await client.timeline(submitted["withdrawn_at"])
    assert [entry["type"] for entry in timeline] == [
        "mla.request.received",
        "mla.request.routed",
        "mla.request.withdrawn",
        "mla.request.closed",
    ]
    positions = [entry["position"] for entry in timeline]
    assert positions == sorted(set(positions))

    archived = by_position(await exported(client))
    for entry in timeline:
        assert HEX64.match(entry["hash"]) and HEX64.match(entry["prev_hash"])
        line = archived[entry["position"]]
        assert (line["hash"], line["event"]["id"]) == (entry["hash"], entry["event_id"])
        # The link is to the entry before it in the archive, whichever request that was.
        before = archived.get(entry["position"] - 1)
        assert entry["prev_hash"] == (before["hash"] if before else GENESIS.hex())
    assert timeline[2]["data"]["reason"] == "the proceedings in Austria were discontinued"


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


# -- the archive -----------------------------------------------------------------------------


async def last_position_of(client: Client, submitted: Submitted) -> int:
    positions: list[int] = [
        entry["position"]
        for request_id in submitted.ids.values()
        for entry in await client.timeline(request_id)
    ]
    return max(positions)


async def test_the_archive_verifies_and_its_head_is_signed_periodically_and_on_demand(
    client: Client, submitted: Submitted
) -> None:
    ours = await last_position_of(client, submitted)

    async def signed_past_ours() -> list[dict[str, Any]]:
        checkpoints: list[dict[str, Any]] = await get_json(client, "/v1/audit/checkpoints")
        return checkpoints if checkpoints and checkpoints[-1]["position"] >= ours else []

    await eventually(signed_past_ours, what="the periodic signer covering this module's events")

    async def signed_at_the_head() -> tuple[dict[str, Any], dict[str, Any]] | None:
        response = await client.http.post(
            client.url("tracking", "/v1/audit/checkpoints"), headers=bearer("auditor")
        )
        assert response.status_code == 201, response.text
        assert isinstance(response.json()["created"], bool)
        checkpoint, verified = response.json()["checkpoint"], await verification(client)
        at_head = checkpoint["position"] == verified["head_position"]
        return (checkpoint, verified) if at_head else None

    found = await eventually(signed_at_the_head, what="a checkpoint signed at the head")
    assert isinstance(found, tuple)
    checkpoint, verified = found
    assert verified["ok"] is True and verified["first_problem"] is None
    assert verified["entries_checked"] == verified["head_position"]
    assert verified["checkpoints_checked"] >= 1
    assert checkpoint["head_hash"] == verified["head_hash"]
    archived = by_position(await exported(client))
    assert archived[checkpoint["position"]]["hash"] == checkpoint["head_hash"]

    pem = await client.http.get(
        client.url("tracking", "/v1/audit/public-key"), headers=bearer("auditor")
    )
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    public_key = load_public_key(pem.content)
    assert key_id(public_key) == checkpoint["key_id"]
    checkpoints = await get_json(client, "/v1/audit/checkpoints")
    assert checkpoint in checkpoints
    assert all(
        signature_valid(checkpoint_from_document(document), public_key) for document in checkpoints
    )
    positions = [document["position"] for document in checkpoints]
    assert positions == sorted(positions)


async def test_an_export_from_a_later_position_is_the_tail_of_the_whole_export(
    client: Client, submitted: Submitted
) -> None:
    start = (await client.timeline(submitted["corruption_at"]))[0]["position"]
    whole = await exported(client)
    tail = await exported(client, from_position=start)

    entries = [json.loads(line) for line in whole]
    assert [entry["position"] for entry in entries] == list(range(1, len(entries) + 1))
    for before, after in itertools.pairwise(entries):
        assert after["prev_hash"] == before["hash"]
    assert json.loads(tail[0])["position"] == start
    common = min(len(tail), len(whole) - (start - 1))
    assert tail[:common] == whole[start - 1 : start - 1 + common]
    assert await exported(client, from_position=len(whole) + 1000) == []


# -- the auditor's command line --------------------------------------------------------------


@pytest.fixture
def audit_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Any]:
    """Run `mla-audit` in-process (off the event loop); its exit code and what it printed."""

    async def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(mla_audit, list(args))
        return code, capsys.readouterr().out

    return run


def auditor_token() -> str:
    return signed_token("auditor")


async def export_with_cli(client: Client, audit_cli: Callable[..., Any], out: Path) -> Path:
    code, printed = await audit_cli(
        "export", "--url", client.stack.url("tracking"), "--out", str(out), "--quiet",
        "--token", auditor_token(),
    )  # fmt: skip
    assert code == 0, printed
    return out


def without_personal_data(details: dict[str, Any]) -> dict[str, Any]:
    """The request's details with every personal field (sealed or open) left out."""
    kept = {k: v for k, v in details.items() if k not in PERSONAL_FIELDS}
    kept["measures"] = [{k: v for k, v in m.items() if k != "details"} for m in kept["measures"]]
    for party in ("requesting_authority", "requested_authority"):
        if kept.get(party):
            kept[party] = {k: v for k, v in kept[party].items() if k != "contact"}
    return kept


async def test_the_auditor_exports_then_verifies_replays_and_shows_offline(
    client: Client, submitted: Submitted, audit_cli: Callable[..., Any], tmp_path: Path
) -> None:
    file = await export_with_cli(client, audit_cli, tmp_path / "archive.ndjson")
    pem = await client.http.get(
        client.url("tracking", "/v1/audit/public-key"), headers=bearer("auditor")
    )
    assert read_bytes(tmp_path / "archive.ndjson.pub.pem") == pem.content

    code, printed = await audit_cli("verify", str(file), "--quiet")
    assert code == 0, printed
    assert "OK: the chain is intact and signed up to" in printed

    code, printed = await audit_cli("replay", str(file), "--json", "--quiet")
    assert code == 0, printed
    views = {view["request_id"]: view for view in map(json.loads, printed.splitlines())}
    for request_id in submitted.ids.values():
        live = await get_json(client, f"/v1/requests/{request_id}")
        offline = views[request_id]
        # Offline, without the key vault, the personal fields stay sealed; the API opens them.
        assert is_sealed(offline["details"]["summary_of_facts"])
        assert without_personal_data(offline["details"]) == without_personal_data(live["details"])
        assert {k: v for k, v in offline.items() if k != "details"} == {
            k: v for k, v in live.items() if k not in ("deadlines", "details")
        }

    timeline = await client.timeline(submitted["withdrawn_at"])
    routed_at = timeline[1]["time"]
    code, printed = await audit_cli(
        "show", str(file), submitted["withdrawn_at"], "--as-of", routed_at
    )
    assert code == 0, printed
    assert re.search(r"^\s+status:\s+routed$", printed, re.MULTILINE), printed
    assert "mla.request.closed" not in printed
    code, printed = await audit_cli("show", str(file), submitted["withdrawn_at"])
    assert code == 0, printed
    assert re.search(r"^\s+status:\s+closed$", printed, re.MULTILINE), printed
    assert re.search(r"^\s+outcome:\s+withdrawn$", printed, re.MULTILINE), printed

    code, printed = await audit_cli("show", str(file), "no-such-request")
    assert code == 1


async def test_a_partial_export_verifies_from_its_first_position(
    client: Client, submitted: Submitted, audit_cli: Callable[..., Any], tmp_path: Path
) -> None:
    start = str((await client.timeline(submitted["corruption_at"]))[0]["position"])
    out = tmp_path / "tail.ndjson"
    code, printed = await audit_cli(
        "export", "--url", client.stack.url("tracking"), "--from-position", start,
        "--out", str(out), "--quiet", "--token", auditor_token(),
    )  # fmt: skip
    assert code == 0, printed

    code, printed = await audit_cli("verify", str(out), "--from-position", start, "--quiet")

    assert code == 0, printed
    assert "OK:" in printed


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def tamper(path: Path, kind: str, position: int, marker: str) -> int:
    """Do `kind` to the entry at `position` of an export; the position verification must name."""
    lines = path.read_bytes().splitlines(keepends=True)
    index = position - 1
    assert json.loads(lines[index])["position"] == position
    if kind == "changed":
        lines[index] = lines[index].replace(marker.encode(), other_first_character(marker), 1)
    elif kind == "removed":
        del lines[index]
    elif kind == "inserted":
        lines.insert(index + 1, lines[index])  # the same entry twice
        position += 1
    else:
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    path.write_bytes(b"".join(lines))
    return position


def other_first_character(text: str) -> bytes:
    return (("0" if text[0] != "0" else "1") + text[1:]).encode()


@pytest.mark.parametrize("kind", ["changed", "removed", "inserted", "reordered"])
async def test_offline_verification_names_the_first_tampered_position_and_what_was_done(
    client: Client,
    submitted: Submitted,
    audit_cli: Callable[..., Any],
    tmp_path: Path,
    kind: str,
) -> None:
    file = await export_with_cli(client, audit_cli, tmp_path / "archive.ndjson")
    received = (await client.timeline(submitted["drugs_si"]))[0]
    assert received["type"] == "mla.request.received"
    broken = tamper(file, kind, received["position"], submitted.marker)

    code, printed = await audit_cli("verify", str(file), "--quiet")

    assert code == 1, printed
    assert f"FAILED at position {broken}: {kind}:" in printed


async def test_an_archive_changed_in_the_database_fails_verification_at_that_position(
    client: Client, submitted: Submitted, audit_cli: Callable[..., Any], tmp_path: Path
) -> None:
    position = (await client.timeline(submitted["drugs_si"]))[0]["position"]
    engine = create_engine(client.stack.database_urls["tracking"], pool_size=1)
    at_position = archive.c.position == position
    try:
        async with engine.begin() as connection:
            original = await connection.scalar(sa.select(archive.c.body).where(at_position))
        assert isinstance(original, bytes) and submitted.marker.encode() in original
        forged = original.replace(
            submitted.marker.encode(), other_first_character(submitted.marker), 1
        )
        assert len(forged) == len(original) and forged != original
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.update(archive).where(at_position).values(body=forged))

            verified = await verification(client)
            assert verified["ok"] is False
            assert verified["first_problem"]["position"] == position
            assert verified["first_problem"]["kind"] == "changed"
            assert verified["head_position"] == position - 1
            # What the operators hand out carries the change, and the auditor sees it offline.
            file = await export_with_cli(client, audit_cli, tmp_path / "archive.ndjson")
            code, printed = await audit_cli("verify", str(file), "--quiet")
            assert code == 1
            assert f"FAILED at position {position}: changed:" in printed
        finally:
            async with engine.begin() as connection:
                await connection.execute(
                    sa.update(archive).where(at_position).values(body=original)
                )
    finally:
        await engine.dispose()

    restored = await verification(client)
    assert restored["ok"] is True, restored


# -- replay ----------------------------------------------------------------------------------


async def test_a_replay_of_the_archive_rebuilds_read_models_equal_to_the_live_ones(
    client: Client, submitted: Submitted
) -> None:
    async def equal_to_live() -> dict[str, Any] | None:
        result = await replayed(client)
        return result if result["equal_to_live"] else None

    whole = await eventually(equal_to_live, timeout=10, what="a replay equal to the live models")
    assert isinstance(whole, dict)
    assert whole["compared_with_live"] is True and whole["differing_requests"] == []
    assert whole["requests"] >= len(submitted.ids) and whole["applied"] is False
    assert whole["by_status"]["closed"] >= 1

    early = (await client.timeline(submitted["drugs_si"]))[0]["position"]
    until = await replayed(client, until_position=early)
    assert until["events_replayed"] == early < whole["events_replayed"]
    assert (until["compared_with_live"], until["equal_to_live"]) == (False, None)

    routed = (await client.timeline(submitted["withdrawn_at"]))[1]["time"]
    as_of = await replayed(client, as_of=routed)
    assert as_of["events_replayed"] < whole["events_replayed"]
    assert as_of["by_status"].get("closed", 0) < whole["by_status"]["closed"]
    assert as_of["compared_with_live"] is False

    # Many monitor scans later, the deadline due tomorrow has still been announced once.
    assert len(await alerts_of(client, submitted["due_tomorrow"])) == 1


async def test_a_replay_as_of_a_moment_without_a_time_zone_is_refused_or_taken_as_utc(
    client: Client, submitted: Submitted
) -> None:
    response = await client.http.post(
        client.url("tracking", "/v1/audit/replay"),
        json={"as_of": "2026-01-01T00:00:00"},
        headers=bearer("admin"),
    )

    assert response.status_code in (200, 422), response.text
