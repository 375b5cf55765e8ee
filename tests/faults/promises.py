"""The promises checked after every fault, each returning the figure it found:

- nothing lost: every accepted request reaches tracking, routed;
- nothing twice: one request per idempotency key, one `received` and one `routed` per
  request, one archive entry per event id, one webhook per event, one alert per deadline;
- the record holds: tracking's read model equals a replay of its archive, and the archive
  verifies.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx

from tests.faults.load import Load
from tests.integration.notify.receivers import WebhookReceiver
from tests.support.auth import bearer
from tests.support.stack import RunningStack

ALERTS = ("mla.request.deadline_approaching", "mla.request.deadline_breached")
SETTLE_SECONDS = 120


async def promises_kept(
    stack: RunningStack, load: Load, receiver: WebhookReceiver, *, notify_killed: bool = False
) -> dict[str, str]:
    """Check every promise (see the module docstring); what each check found."""
    tracking = stack.url("tracking")
    async with httpx.AsyncClient(timeout=30, base_url=tracking) as http:
        found = {"accepted requests": str(len(load.ids))}
        assert len(load.ids) == len(load.accepted), "two idempotency keys gave one request id"
        assert not load.refused, f"submissions refused for good: {load.refused[:3]}"
        found["routed in tracking"] = await _all_routed(http, load)
        found["in tracking's list"] = await _listed_once(http, load)
        found["timelines"] = await _timelines_exact(http, load)
        archive = await _archive_with_alerts(http, load)
        found["archive"] = _each_event_once(archive)
        found["alerts"] = _one_alert_per_deadline(archive, load)
        found["webhooks"] = await _one_webhook_per_event(receiver, load, archive, notify_killed)
        found["replay"] = await _replay_equals_live(http)
        found["verify"] = await _archive_verifies(http)
    return found


async def _until(check: Any, what: str, timeout: float = SETTLE_SECONDS) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        ok, last = await check()
        if ok:
            return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} not reached within {timeout}s: {last}")


async def _all_routed(http: httpx.AsyncClient, load: Load) -> str:
    waiting = set(load.ids)

    async def check() -> tuple[bool, str]:
        seen: Counter[str] = Counter()
        for request_id in sorted(waiting):
            response = await http.get(f"/v1/requests/{request_id}", headers=bearer("operator"))
            status = response.json()["status"] if response.status_code == 200 else "untracked"
            if status == "routed":
                waiting.discard(request_id)
            else:
                seen[status] += 1
        return (
            not waiting,
            f"{len(waiting)} not routed yet: {dict(seen)}, e.g. {min(waiting, default=None)}",
        )

    await _until(check, "every accepted request routed in tracking")
    return f"{len(load.ids)}/{len(load.ids)} routed, 0 lost"


async def _listed_once(http: httpx.AsyncClient, load: Load) -> str:
    listed: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": load.marker, "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get("/v1/requests", params=params, headers=bearer("operator"))).json()
        listed += [item["request_id"] for item in page["items"]]
        if not (cursor := page.get("next_cursor")):
            break
    duplicates = [i for i, n in Counter(listed).items() if n > 1]
    assert not duplicates, f"listed twice: {duplicates[:3]}"
    assert set(listed) == load.ids, f"{len(set(listed) ^ load.ids)} differ from the accepted"
    return f"{len(listed)} listed, 0 twice"


async def _timelines_exact(http: httpx.AsyncClient, load: Load) -> str:
    events = 0
    for request_id in sorted(load.ids):
        response = await http.get(f"/v1/requests/{request_id}/timeline", headers=bearer("operator"))
        types = Counter(e["type"] for e in response.json() if e["type"] not in ALERTS)
        assert types == {"mla.request.received": 1, "mla.request.routed": 1}, (request_id, types)
        events += sum(types.values())
    return f"{events} events, 1 received + 1 routed each"


async def _archive(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/v1/audit/events", headers=bearer("auditor"))
    response.raise_for_status()
    return [json.loads(line)["event"] for line in response.text.splitlines() if line]


async def _archive_with_alerts(http: httpx.AsyncClient, load: Load) -> list[dict[str, Any]]:
    """The archive, once the deadline monitor (a scan a second) has alerted every request
    due tomorrow: the last ones were submitted a moment ago."""

    async def check() -> tuple[bool, list[dict[str, Any]]]:
        archive = await _archive(http)
        alerted = {e["subject"] for e in archive if e["type"] == ALERTS[0]}
        return load.due_tomorrow <= alerted, archive

    try:
        found: list[dict[str, Any]] = await _until(check, "an alert for each request due", 30)
    except AssertionError:
        found = await _archive(http)  # `_one_alert_per_deadline` says which are missing
    return found


def _each_event_once(archive: list[dict[str, Any]]) -> str:
    twice = [i for i, n in Counter(e["id"] for e in archive).items() if n > 1]
    assert not twice, f"archived twice: {twice[:3]}"
    return f"{len(archive)} entries, 0 event twice"


def _one_alert_per_deadline(archive: list[dict[str, Any]], load: Load) -> str:
    alerts = Counter((e["type"], e["data"]["deadline_id"]) for e in archive if e["type"] in ALERTS)
    twice = [key for key, n in alerts.items() if n > 1]
    assert not twice, f"alerted twice: {twice[:3]}"
    alerted = {e["subject"] for e in archive if e["type"] == ALERTS[0]}
    missing = load.due_tomorrow - alerted
    assert not missing, f"{len(missing)} requests due tomorrow without an alert"
    return f"{sum(alerts.values())} alerts, 0 twice"


async def _one_webhook_per_event(
    receiver: WebhookReceiver, load: Load, archive: list[dict[str, Any]], notify_killed: bool
) -> str:
    expected = {
        e["id"]
        for e in archive
        if e["subject"] in load.ids
        and e["type"] in ("mla.request.received", "mla.request.routed", *ALERTS)
    }

    async def check() -> tuple[bool, str]:
        delivered = {r.event["id"] for r in receiver.accepted()}
        return expected <= delivered, f"{len(expected - delivered)} events not delivered yet"

    await _until(check, "a webhook for every event")
    ours = [r for r in receiver.accepted() if r.event["id"] in expected]
    # One message per event: every delivery of an event carries the same webhook-id, the key
    # a receiver dedupes on (Standard Webhooks).
    ids_per_event: dict[str, set[str]] = {}
    for r in ours:
        ids_per_event.setdefault(r.event["id"], set()).add(r.webhook_id)
    split = [event for event, ids in ids_per_event.items() if len(ids) > 1]
    assert not split, f"events sent as two different webhooks: {split[:3]}"
    # The same message again only when notify was killed between sending it and recording
    # that it was answered: no sender can know whether such a message arrived.
    again = len(ours) - len(ids_per_event)
    assert notify_killed or not again, f"{again} webhooks delivered twice"
    return f"{len(ids_per_event)} webhooks for {len(expected)} events, {again} sent again"


async def _replay_equals_live(http: httpx.AsyncClient) -> str:
    async def check() -> tuple[bool, dict[str, Any]]:
        # Equal once the consumer has caught up with the archive it appends to.
        outcome = (await http.post("/v1/audit/replay", json={}, headers=bearer("admin"))).json()
        return outcome.get("equal_to_live") is True, outcome

    outcome = await _until(check, "the read model equal to a replay of the archive", 30)
    return f"equal to live over {outcome['events_replayed']} events"


async def _archive_verifies(http: httpx.AsyncClient) -> str:
    result = (await http.get("/v1/audit/verify", headers=bearer("auditor"))).json()
    assert result["ok"] is True, result
    entries, checkpoints = result["entries_checked"], result["checkpoints_checked"]
    return f"verifies: {entries} entries, {checkpoints} checkpoints"
