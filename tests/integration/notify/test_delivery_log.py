"""The delivery log: filters, cursor pages, one delivery, and what a deleted subscription leaves."""

from __future__ import annotations

from typing import Any

import pytest

from services.notify.settings import Settings
from tests.integration.notify.events import new_request_id, received, routed
from tests.integration.notify.harness import running
from tests.integration.notify.receivers import WebhookReceiver

pytestmark = pytest.mark.integration

TYPES = ["mla.request.received", "mla.request.routed"]


async def test_the_log_is_filtered_and_paged_newest_first(
    notify_settings: Settings, publish: Any
) -> None:
    receiver = WebhookReceiver()
    await receiver.up()
    async with running(notify_settings) as notify:
        first = await notify.subscribe(channel="webhook", url=receiver.url, event_types=TYPES)
        second = await notify.subscribe(channel="webhook", url=receiver.url, event_types=TYPES)
        receiver.secret = first["secret"]  # the second one's attempts fail verification: 401
        one, other = new_request_id(), new_request_id()
        office = ("vjt-subotica", "Više javno tužilaštvo u Subotici")
        await publish(received(one), routed(one, office), received(other))
        everything = await notify.until_deliveries(lambda items: len(items) == 6, "six")

        pages, cursor = [], None
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = (await notify.http.get("/v1/deliveries", params=params)).json()
            pages.append([item["id"] for item in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        of_first = await notify.deliveries(subscription_id=first["id"])
        of_one = await notify.deliveries(request_id=one)
        of_both = await notify.deliveries(request_id=one, subscription_id=second["id"])
        single = await notify.http.get(f"/v1/deliveries/{of_one[0]['id']}")
        unknown = await notify.http.get("/v1/deliveries/nope")
        bad_cursor = await notify.http.get("/v1/deliveries", params={"cursor": "garbage"})
        bad_status = await notify.http.get("/v1/deliveries", params={"status": "lost"})
        failing = await notify.until_deliveries(
            lambda items: all(
                i["status"] in ("failed", "dead")
                for i in items
                if i["subscription_id"] == second["id"]
            ),
            "the second one's attempts refused (401) and retried",
            timeout=10,
        )
    await receiver.down()

    assert [len(page) for page in pages] == [4, 2]
    assert [i for page in pages for i in page] == [item["id"] for item in everything]
    created = [item["created_at"] for item in everything]
    assert created == sorted(created, reverse=True)
    assert len(of_first) == 3 and {i["subscription_id"] for i in of_first} == {first["id"]}
    assert len(of_one) == 4 and {i["request_id"] for i in of_one} == {one}
    assert len(of_both) == 2
    assert single.status_code == 200 and single.json()["id"] == of_one[0]["id"]
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/delivery-not-found")
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"
    assert bad_status.status_code == 422
    assert {i["last_status_code"] for i in failing if i["subscription_id"] == second["id"]} == {401}


async def test_deleting_a_subscription_cancels_what_it_still_had_to_get(
    notify_settings: Settings, publish: Any
) -> None:
    receiver = WebhookReceiver(answer=500)
    await receiver.up()
    slow = notify_settings.model_copy(update={"delivery_initial_backoff_seconds": 30})
    async with running(slow) as notify:
        created = await notify.subscribe(
            channel="webhook", url=receiver.url, event_types=["mla.request.received"]
        )
        receiver.secret = created["secret"]
        await publish(received(new_request_id()))
        [failed] = await notify.until_deliveries(
            lambda items: [i["status"] for i in items] == ["failed"], "first attempt failed"
        )
        assert (await notify.http.delete(f"/v1/subscriptions/{created['id']}")).status_code == 204
        [cancelled] = await notify.deliveries()
        retry = await notify.http.post(f"/v1/deliveries/{failed['id']}/retry")
    await receiver.down()
    assert cancelled["status"] == "cancelled" and cancelled["next_attempt_at"] is None
    assert retry.status_code == 409
