"""Notifications of a request's journey through the running services.

The stack's own notify refuses a webhook on this machine (private targets are not allowed by
default). A second notify instance, in this process, with its own database and consumer
group and loopback targets allowed, follows the stack's topic: a request submitted to intake
and routed by routing reaches a real receiver as signed webhooks and a real SMTP server as
e-mail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.notify.settings import Settings
from tests.integration.notify.harness import FAST, Notify, running
from tests.integration.notify.receivers import MailCatcher, WebhookReceiver
from tests.support.api import Client, a_request
from tests.support.infra import eventually, fresh_database, unique
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def smtp() -> AsyncIterator[MailCatcher]:
    catcher = MailCatcher()
    await catcher.start()
    yield catcher
    await catcher.stop()


@pytest.fixture
async def notify(stack: RunningStack, smtp: MailCatcher) -> AsyncIterator[Notify]:
    settings = Settings(
        database_url=await fresh_database("notify"),
        kafka_bootstrap_servers=stack.bootstrap,
        topic=stack.topic,
        consumer_group=unique("notify-e2e"),
        smtp_port=smtp.port,
        **FAST,
    )
    async with running(settings) as running_notify:
        yield running_notify


async def test_the_stacks_notify_refuses_a_webhook_on_a_loopback_address(client: Client) -> None:
    response = await client.http.post(
        client.url("notify", "/v1/subscriptions"),
        json={"channel": "webhook", "url": "http://127.0.0.1:8080/hook", "role": "operators"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "url"
    assert "loopback" in response.json()["detail"]


async def test_a_submitted_request_reaches_its_requester_and_its_offices(
    client: Client, notify: Notify, smtp: MailCatcher
) -> None:
    receiver = WebhookReceiver()
    await receiver.up()
    try:
        body = a_request()
        authority = body["requesting_authority"]
        created = await notify.subscribe(
            channel="webhook",
            url=receiver.url,
            authority={"name": authority["name"], "country": authority["country"]},
        )
        receiver.secret = created["secret"]
        await notify.subscribe(
            channel="email",
            recipients=["pisarnica@vjt-subotica.example.rs"],
            office_id="vjt-subotica",
        )
        submitted = (await client.submit(body)).json()
        request_id = submitted["id"]

        def of_this_request() -> list[dict[str, Any]]:
            return [r.event for r in receiver.accepted() if r.event["subject"] == request_id]

        await eventually(
            lambda: _ready(len(of_this_request()) == 2), what="received and routed arrive"
        )
        await eventually(
            lambda: _ready(any(request_id in _text(m) for m in smtp.messages)),
            what="the office's e-mail",
        )
    finally:
        await receiver.down()

    events = {event["type"]: event for event in of_this_request()}
    assert set(events) == {"mla.request.received", "mla.request.routed"}
    assert (
        events["mla.request.received"]["data"]["domestic_reference"]
        == (submitted["domestic_reference"])
    )
    offices = {a["office_id"] for a in events["mla.request.routed"]["data"]["assignments"]}
    assert offices == {"vjt-subotica", "vjt-novi-sad"}
    assert all(r.verified for r in receiver.received)

    [email] = [m for m in smtp.messages if request_id in _text(m)]
    assert email["Subject"] == f"[{submitted['domestic_reference']}] Zahtev dodeljen na izvršenje"
    assert authority["reference"] in _text(email)
    for person in body["persons"]:
        assert person["name"] not in email.as_string() + _text(email)
    assert body["summary_of_facts"][:40] not in _text(email)


def _text(message: Any) -> str:
    return str(message.get_content())


async def _ready(value: bool) -> bool:
    return value
