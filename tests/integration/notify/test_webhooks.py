"""Signed webhooks to real receivers: verified, retried, dead-lettered, never blocked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.notify.settings import Settings
from tests.integration.notify.events import (
    LJUBLJANA,
    breached,
    executed,
    new_request_id,
    received,
    routed,
)
from tests.integration.notify.harness import running
from tests.integration.notify.receivers import WebhookReceiver
from tests.support.infra import eventually, unique

pytestmark = pytest.mark.integration

SUBOTICA = ("vjt-subotica", "Više javno tužilaštvo u Subotici")
# Long enough that the healthy receiver is served before a hung attempt gives up, even on a
# slow machine; short enough that the test does not wait long for the hung ones.
HANG_TIMEOUT = 3.0


def statuses(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item["status"] for item in items)


async def test_the_requesting_authority_gets_its_own_requests_signed_and_verifiable(
    notify_settings: Settings, publish: Any
) -> None:
    receiver = WebhookReceiver()
    await receiver.up()
    async with running(notify_settings) as notify:
        created = await notify.subscribe(
            channel="webhook",
            url=receiver.url.replace("127.0.0.1", "localhost"),  # a name, resolved each time
            authority={"name": LJUBLJANA, "country": "SI"},
        )
        receiver.secret = created["secret"]
        assert created["secret"].startswith("whsec_")
        assert created["default_event_types"] is True
        ours, theirs = new_request_id(), new_request_id()
        events = [received(ours), routed(ours, SUBOTICA), breached(ours), executed(ours, "x")]
        await publish(*events, received(theirs, name="Tribunal de Paris", country="FR"))

        await notify.until_deliveries(
            lambda items: statuses(items) == ["delivered"] * 3, "three deliveries delivered"
        )
        log = await notify.deliveries(request_id=ours)
    await receiver.down()

    accepted = receiver.accepted()
    assert len(receiver.received) == 3 and len(accepted) == 3, "every signature verified"
    # status changes of its own request; the deadline alert is not for the requester
    sent = {events[i].id: events[i] for i in (0, 1, 3)}
    assert {r.event["id"] for r in accepted} == set(sent)
    for message in accepted:
        assert message.headers["content-type"] == "application/cloudevents+json"
        assert message.headers["host"] == f"localhost:{receiver.port}"
        assert message.event["type"] == sent[message.event["id"]].type
        assert message.event["subject"] == ours
    assert sorted(receiver.accepted_ids()) == sorted(item["id"] for item in log)
    assert all(item["attempts"] == 1 and item["last_status_code"] == 200 for item in log)


async def test_a_receiver_that_is_down_gets_every_message_once_when_it_is_back(
    notify_settings: Settings, publish: Any
) -> None:
    receiver = WebhookReceiver()  # not listening yet: connection refused
    async with running(notify_settings) as notify:
        created = await notify.subscribe(
            channel="webhook", url=receiver.url, event_types=["mla.request.received"]
        )
        receiver.secret = created["secret"]
        events = [received(new_request_id(), f"MPP-2026-{n:06d}") for n in range(5)]
        await publish(*events)
        await notify.until_deliveries(
            lambda items: len(items) == 5 and all(i["status"] == "failed" for i in items),
            "five deliveries failing while the receiver is down",
        )
    # notify stops with the retries pending; a new instance resumes the schedule it left.
    # It reads the topic from the start in a new consumer group, and the same events are
    # published once more: every one of them comes again.
    await publish(*events)
    await receiver.up()
    restarted = notify_settings.model_copy(update={"consumer_group": unique("notify")})
    async with running(restarted) as notify:
        log = await notify.until_deliveries(
            lambda items: statuses(items) == ["delivered"] * 5, "all five delivered"
        )
        await asyncio.sleep(0.5)  # time for a duplicate to show, if one were coming
        log = await notify.deliveries()
    await receiver.down()

    assert len(log) == 5, "a redelivered event adds no delivery"
    ids = receiver.accepted_ids()
    assert len(ids) == len(set(ids)) == 5, "each message accepted exactly once"
    assert {r.event["id"] for r in receiver.accepted()} == {e.id for e in events}
    assert all(item["attempts"] >= 2 for item in log), "each failed first, then went through"


async def test_a_receiver_that_always_fails_is_dead_lettered_and_a_manual_retry_delivers(
    notify_settings: Settings, publish: Any
) -> None:
    settings = notify_settings.model_copy(update={"delivery_max_attempts": 3})
    receiver = WebhookReceiver(answer=500)
    await receiver.up()
    async with running(settings) as notify:
        created = await notify.subscribe(
            channel="webhook", url=receiver.url, role="operators", description="on-call"
        )
        receiver.secret = created["secret"]
        request_id = new_request_id()
        await publish(received(request_id), breached(request_id))
        [dead] = await notify.until_deliveries(
            lambda items: statuses(items) == ["dead"], "the breach dead-lettered"
        )
        assert dead["attempts"] == 3 and dead["last_status_code"] == 500
        assert dead["last_error"] == "HTTP 500" and dead["next_attempt_at"] is None
        assert [r.answered for r in receiver.received] == [500, 500, 500]
        assert {r.webhook_id for r in receiver.received} == {dead["id"]}, "one id, each try"
        listed = await notify.http.get("/v1/deliveries", params={"status": "dead"})
        assert [item["id"] for item in listed.json()["items"]] == [dead["id"]]

        receiver.answer = 200
        retried = await notify.http.post(f"/v1/deliveries/{dead['id']}/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json()["status"] == "pending"
        [done] = await notify.until_deliveries(
            lambda items: statuses(items) == ["delivered"], "delivered after the manual retry"
        )
        again = await notify.http.post(f"/v1/deliveries/{dead['id']}/retry")
    await receiver.down()

    assert done["id"] == dead["id"] and done["delivered_at"] is not None
    assert receiver.accepted_ids() == [dead["id"]]
    assert receiver.accepted()[0].event["type"] == "mla.request.deadline_breached"
    assert again.status_code == 409
    assert again.json()["type"].endswith("/delivery-not-retryable")


async def test_a_hanging_receiver_does_not_delay_a_healthy_one(
    notify_settings: Settings, publish: Any
) -> None:
    settings = notify_settings.model_copy(update={"delivery_timeout_seconds": HANG_TIMEOUT})
    hanging, healthy = WebhookReceiver(answer="hang"), WebhookReceiver()
    await hanging.up()
    await healthy.up()
    async with running(settings) as notify:
        for receiver in (hanging, healthy):
            created = await notify.subscribe(
                channel="webhook", url=receiver.url, event_types=["mla.request.received"]
            )
            receiver.secret = created["secret"]
        await publish(*(received(new_request_id()) for _ in range(4)))

        await eventually(lambda: _ready(len(healthy.accepted()) == 4), what="healthy got all")
        assert len(hanging.received) >= 1, "the hanging receiver was called too"
        failed = await notify.until_deliveries(
            lambda items: sum(i["last_error"] is not None for i in items) == 4,
            "the hanging attempts timed out",
        )
    await hanging.down()
    await healthy.down()

    # Everything reached the healthy receiver before the first hung attempt had timed out.
    took = max(r.at for r in healthy.received) - min(r.at for r in hanging.received)
    assert took < HANG_TIMEOUT, f"healthy receiver waited {took:.2f}s"
    timed_out = [i for i in failed if i["last_error"]]
    assert {i["last_error"] for i in timed_out} == {"no answer within 3 s"}


async def _ready(value: bool) -> bool:
    return value


async def test_two_instances_share_the_deliveries_and_send_each_once(
    notify_settings: Settings, publish: Any
) -> None:
    receiver = WebhookReceiver()
    await receiver.up()
    async with running(notify_settings) as first, running(notify_settings) as second:
        created = await first.subscribe(
            channel="webhook", url=receiver.url, event_types=["mla.request.received"]
        )
        receiver.secret = created["secret"]
        events = [received(new_request_id()) for _ in range(30)]
        await publish(*events)
        log = await second.until_deliveries(
            lambda items: statuses(items) == ["delivered"] * 30, "thirty delivered"
        )
    await receiver.down()
    ids = receiver.accepted_ids()
    assert len(ids) == len(set(ids)) == 30
    assert len(receiver.received) == 30, "no attempt was made twice"
    assert all(item["attempts"] == 1 for item in log), "none failed and was sent again"
