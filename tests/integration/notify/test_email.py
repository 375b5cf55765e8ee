"""E-mail through a real SMTP server: the right people, the right language, no personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.notify.settings import Settings
from tests.integration.notify.events import (
    LJUBLJANA,
    PERSONAL,
    breached,
    executed,
    new_request_id,
    received,
    routed,
    routing_failed,
)
from tests.integration.notify.harness import running
from tests.integration.notify.receivers import MailCatcher

pytestmark = pytest.mark.integration

SUBOTICA = ("vjt-subotica", "Više javno tužilaštvo u Subotici")
NOVI_SAD = ("vjt-novi-sad", "Više javno tužilaštvo u Novom Sadu")


@pytest.fixture
async def smtp() -> AsyncIterator[MailCatcher]:
    catcher = MailCatcher()
    await catcher.start()
    yield catcher
    await catcher.stop()


def text_of(message: Any) -> str:
    return str(message.get_content())


async def test_each_audience_gets_its_own_e_mails_in_its_language_without_personal_data(
    notify_settings: Settings, publish: Any, smtp: MailCatcher
) -> None:
    settings = notify_settings.model_copy(
        update={"smtp_port": smtp.port, "smtp_from": "mpp@tuzilastvo.example.rs"}
    )
    async with running(settings) as notify:
        await notify.subscribe(
            channel="email", recipients=["pisarnica@vjt-subotica.example.rs"], office_id=SUBOTICA[0]
        )
        await notify.subscribe(
            channel="email",
            recipients=["cases@dt-ljubljana.example.si"],
            language="en",
            authority={"name": LJUBLJANA.upper()},  # names match whatever their case
        )
        await notify.subscribe(
            channel="email", recipients=["dezurni@rjt.example.rs"], role="operators"
        )
        request_id, unroutable = new_request_id(), new_request_id()
        await publish(
            received(request_id, "MPP-2026-000777"),
            routed(request_id, SUBOTICA, NOVI_SAD),
            executed(request_id, SUBOTICA[0], outstanding=1),
            breached(request_id),
            received(unroutable, "MPP-2026-000778", name="Tribunal de Paris", country="FR"),
            routing_failed(unroutable),
        )
        await notify.until_deliveries(
            lambda items: [i["status"] for i in items] == ["delivered"] * 7, "seven e-mails"
        )

    assert len(smtp.messages) == 7
    office = smtp.to("pisarnica@vjt-subotica.example.rs")
    authority = smtp.to("cases@dt-ljubljana.example.si")
    operators = smtp.to("dezurni@rjt.example.rs")
    # the office: its new assignment and the deadline alert of its request
    assert sorted(m["Subject"] for m in office) == [
        "[MPP-2026-000777] Rok je istekao",
        "[MPP-2026-000777] Zahtev dodeljen na izvršenje",
    ]
    # the requester: status changes of its own request, in English
    assert sorted(m["Subject"] for m in authority) == [
        "[MPP-2026-000777] Execution report",
        "[MPP-2026-000777] Request assigned for execution",
        "[MPP-2026-000777] Request received",
    ]
    # the operators: the breach and the request no rule could route
    assert sorted(m["Subject"] for m in operators) == [
        "[MPP-2026-000777] Rok je istekao",
        "[MPP-2026-000778] Zahtev nije raspoređen",
    ]

    assignment = next(m for m in office if "dodeljen" in m["Subject"])
    body = text_of(assignment)
    assert assignment["Content-Language"] == "sr-Latn"
    assert assignment["From"] == "mpp@tuzilastvo.example.rs"
    assert "Broj predmeta: MPP-2026-000777" in body
    assert "Broj organa molioca: Kt 1234/2026" in body
    assert "Više javno tužilaštvo u Subotici, Više javno tužilaštvo u Novom Sadu" in body
    assert f"https://tracking.mla.example/v1/requests/{request_id}" in body

    report = text_of(next(m for m in authority if "Execution" in m["Subject"]))
    assert "Više javno tužilaštvo u Subotici reported execution: executed." in report
    assert "Domestic reference: MPP-2026-000777" in report
    assert "Requesting authority's reference: Kt 1234/2026" in report

    for message in smtp.messages:
        everything = message.as_string() + text_of(message)
        for personal in (*PERSONAL, "was heard", "no office serves"):
            assert personal not in everything, (personal, message["Subject"])


async def test_an_smtp_server_that_is_down_gets_the_e_mail_when_it_is_back(
    notify_settings: Settings, publish: Any
) -> None:
    catcher = MailCatcher()  # not started yet
    settings = notify_settings.model_copy(update={"smtp_port": catcher.port})
    async with running(settings) as notify:
        await notify.subscribe(
            channel="email", recipients=["dezurni@rjt.example.rs"], role="operators"
        )
        request_id = new_request_id()
        await publish(received(request_id), breached(request_id))
        await notify.until_deliveries(
            lambda items: [i["status"] for i in items] == ["failed"], "the first attempt failed"
        )
        await catcher.start()
        try:
            [done] = await notify.until_deliveries(
                lambda items: [i["status"] for i in items] == ["delivered"], "delivered"
            )
        finally:
            await catcher.stop()
    assert done["attempts"] >= 2
    assert len(catcher.messages) == 1
    assert catcher.messages[0]["Message-ID"].startswith(f"<{done['id']}@")
