"""The subscription API: what it keeps, what it refuses, and targets refused twice over."""

from __future__ import annotations

from typing import Any

import pytest

from services.notify.settings import Settings
from tests.integration.notify.events import new_request_id, received
from tests.integration.notify.harness import running
from tests.integration.notify.receivers import WebhookReceiver
from tests.support.infra import unique

pytestmark = pytest.mark.integration

REFUSED_TARGETS = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "https://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/hook",
    "http://224.0.0.1/hook",
    "ftp://public.example/hook",
    "http://user:password@8.8.8.8/hook",
]


async def test_private_loopback_and_link_local_targets_are_refused_when_not_allowed(
    notify_settings: Settings,
) -> None:
    settings = notify_settings.model_copy(update={"allow_private_targets": False})
    async with running(settings) as notify:
        for url in REFUSED_TARGETS:
            response = await notify.http.post(
                "/v1/subscriptions",
                json={"channel": "webhook", "url": url, "role": "operators"},
            )
            assert response.status_code == 422, (url, response.text)
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in problem["errors"]] == ["url"], url
        assert (await notify.http.get("/v1/subscriptions")).json()["items"] == []


async def test_a_target_that_turns_private_after_subscribing_is_refused_at_delivery(
    notify_settings: Settings, publish: Any
) -> None:
    """What is checked at subscription time is checked again before every attempt: a name
    that later resolves to a private address (DNS rebinding) gets nothing."""
    receiver = WebhookReceiver()
    await receiver.up()
    async with running(notify_settings) as notify:  # private targets allowed here
        created = await notify.subscribe(
            channel="webhook", url=receiver.url, event_types=["mla.request.received"]
        )
    receiver.secret = created["secret"]
    strict = notify_settings.model_copy(
        update={
            "allow_private_targets": False,
            "delivery_max_attempts": 2,
            "consumer_group": unique("notify"),  # no wait for the first one's group to settle
        }
    )
    async with running(strict) as notify:
        await publish(received(new_request_id()))
        [dead] = await notify.until_deliveries(
            lambda items: [i["status"] for i in items] == ["dead"], "refused at delivery"
        )
    await receiver.down()
    assert dead["last_error"] == "target refused: 127.0.0.1 is a loopback address"
    assert receiver.received == []


async def test_a_subscription_keeps_its_secret_to_itself_and_can_be_deleted(
    notify_settings: Settings,
) -> None:
    async with running(notify_settings) as notify:
        given = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
        created = await notify.subscribe(
            channel="webhook",
            url="http://127.0.0.1:9/hook",
            secret=given,
            office_id="vjt-subotica",
        )
        assert created["secret"] == given
        assert created["event_types"] == [
            "mla.request.routed",
            "mla.request.deadline_approaching",
            "mla.request.deadline_breached",
        ]
        one = await notify.http.get(f"/v1/subscriptions/{created['id']}")
        listed = (await notify.http.get("/v1/subscriptions")).json()["items"]
        assert one.status_code == 200 and "secret" not in one.json()
        assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
        assert one.json()["office_id"] == "vjt-subotica"

        deleted = await notify.http.delete(f"/v1/subscriptions/{created['id']}")
        assert deleted.status_code == 204
        gone = await notify.http.get(f"/v1/subscriptions/{created['id']}")
        assert gone.status_code == 404
        assert gone.json()["type"].endswith("/subscription-not-found")
        again = await notify.http.delete(f"/v1/subscriptions/{created['id']}")
        assert again.status_code == 404


HOOK = {"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
MAIL = {"channel": "email", "role": "operators"}
INVALID: list[tuple[dict[str, Any], str]] = [
    (HOOK, "event_types"),  # no audience, so no default event types
    ({**HOOK, "role": "operators", "secret": "s3cret"}, "secret"),
    ({**HOOK, "role": "operators", "office_id": "vjt-subotica"}, "role"),
    ({**HOOK, "event_types": ["mla.request.nope"]}, "event_types"),
    ({**HOOK, "role": "operators", "recipients": ["a@b.rs"]}, "recipients"),
    ({"channel": "webhook", "role": "operators"}, "url"),
    (MAIL, "recipients"),
    ({**MAIL, "recipients": ["a@b.rs\r\nBcc: x@y.example"]}, "recipients.0"),
    ({**MAIL, "recipients": ["a@b.rs"], "language": "de"}, "language"),
    ({**MAIL, "recipients": ["a@b.rs"], "url": "http://127.0.0.1:9/"}, "url"),
    ({"channel": "sms", "role": "operators"}, "channel"),
    ({**MAIL, "recipients": ["a@b.rs"], "role": "judges"}, "role"),
]


async def test_an_invalid_subscription_is_refused_naming_its_field(
    notify_settings: Settings,
) -> None:
    async with running(notify_settings) as notify:
        for body, field in INVALID:
            response = await notify.http.post("/v1/subscriptions", json=body)
            assert response.status_code == 422, (body, response.text)
            assert [e["field"] for e in response.json()["errors"]] == [field], body
        assert (await notify.http.get("/v1/subscriptions")).json()["items"] == []
