"""The tamper-evident archive as an auditor checks it, end to end: each timeline entry's
archive position and chained hash, the archive verified through the API with its head signed
periodically and on demand, an export from a later position being the tail of the whole, and
offline verification with `mla-audit` of a partial export, of an export tampered with, and
of an archive changed in the database, each naming the first position that fails.

The stack is shared by the e2e tests of a worker; this module's requests come from the
`submitted` fixture. The database is tampered with only inside `try`/`finally`, which
restores the exact bytes.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.tracking.adapters.tables import archive
from services.tracking.domain.archive import (
    GENESIS,
    checkpoint_from_document,
    key_id,
    load_public_key,
    signature_valid,
)
from shared.db import create_engine
from tests.support.api import Client
from tests.support.auth import bearer
from tests.support.infra import eventually
from tests.support.tracking_audit import (
    Submitted,
    auditor_token,
    by_position,
    export_with_cli,
    exported,
    get_json,
    verification,
)

pytestmark = pytest.mark.e2e

HEX64 = re.compile(r"^[0-9a-f]{64}$")


# -- a request's timeline in the archive ------------------------------------------------------


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
