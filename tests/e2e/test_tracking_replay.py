"""Replaying tracking's archive, end to end: offline, the auditor exports with `mla-audit`,
verifies, replays to views equal to the live ones (personal fields stay sealed without the
key vault) and shows a request as of a moment; through the API, a replay rebuilds read
models equal to the live ones, up to a position or as of a moment, and a moment without a
time zone is refused or taken as UTC.

The stack is shared by the e2e tests of a worker; this module's requests come from the
`submitted` fixture.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.personal_data import is_sealed
from tests.support.api import Client
from tests.support.auth import bearer
from tests.support.infra import eventually
from tests.support.tracking_audit import (
    Submitted,
    alerts_of,
    export_with_cli,
    get_json,
    replayed,
)

pytestmark = pytest.mark.e2e

PERSONAL_FIELDS = ("persons", "summary_of_facts", "urgency_reasons")


# -- the auditor's command line --------------------------------------------------------------


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


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


# -- replay ----------------------------------------------------------------------------------


async def test_a_replay_of_the_archive_rebuilds_read_models_equal_to_the_live_ones(
    client: Client, submitted: Submitted
) -> None:
    async def equal_to_live() -> dict[str, Any] | None:
        result = await replayed(client)
        return result if result["equal_to_live"] else None

    whole = await eventually(equal_to_live, what="a replay equal to the live models")
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
