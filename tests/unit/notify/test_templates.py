"""The e-mail texts: the request identified, in the subscriber's language, nothing personal."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from services.notify.domain.request_facts import RequestFacts
from services.notify.domain.subscription import Language
from services.notify.domain.templates import render
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    DeadlineApproaching,
    DeadlineBreached,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
)
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

LINK = "https://tracking.example/v1/requests/r1"
SECRET_WORDS = ("Dragan", "Mira", "1984", "cocaine", "dispatcher", "SECRET-FREE-TEXT")


def received() -> RequestReceived:
    return RequestReceived(
        request_id="r1",
        domestic_reference="MPP-2026-000321",
        received_at=datetime.now(UTC),
        details=RequestDetails.model_validate(copy.deepcopy(EXAMPLE_REQUEST)),
    )


ROUTED = RequestRouted(
    request_id="r1",
    assignments=[
        Assignment(
            assignment_id="a1",
            office_id="vjt-subotica",
            office_name="Više javno tužilaštvo u Subotici",
            measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
            rule="territorial",
            basis="-",
        )
    ],
    directory_version=1,
    trace=[],
    reason="SECRET-FREE-TEXT",
)
FREE = "SECRET-FREE-TEXT Dragan Example"
EVERY_EVENT: list[Payload] = [
    ROUTED,
    RoutingFailed(request_id="r1", reason=FREE, directory_version=1, trace=[]),
    AssignmentDeclined(request_id="r1", assignment_id="a1", office_id="vjt-subotica", reason=FREE),
    RequestExecuted(
        request_id="r1",
        assignment_id="a1",
        office_id="vjt-subotica",
        result="partially_executed",
        details=FREE,
        outstanding=0,
    ),
    RequestWithdrawn(request_id="r1", reason=FREE),
    RequestClosed(request_id="r1", outcome="refused", grounds=FREE, answer_summary=FREE),
    DeadlineApproaching(
        request_id="r1", deadline_id="d", kind="execute", due=date(2027, 3, 1), basis="EIO art. 12"
    ),
    DeadlineBreached(
        request_id="r1", deadline_id="d", kind="execute", due=date(2027, 3, 1), basis="EIO art. 12"
    ),
]


def facts_after(*payloads: Payload) -> RequestFacts:
    facts = RequestFacts("r1")
    for payload in (received(), ROUTED, *payloads):
        facts.apply(payload)
    return facts


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("payload", [received(), *EVERY_EVENT], ids=lambda p: type(p).__name__)
def test_every_e_mail_names_the_request_and_nothing_personal(
    language: Language, payload: Payload
) -> None:
    email = render(language, payload, facts_after(payload), LINK)
    assert email.subject.startswith("[MPP-2026-000321] ")
    assert "MPP-2026-000321" in email.text and "Kt 1234/2026" in email.text
    assert LINK in email.text
    for word in SECRET_WORDS:
        assert word not in email.subject + email.text


def test_serbian_e_mails_are_in_latin_script_with_serbian_dates_and_words() -> None:
    breach = EVERY_EVENT[-1]
    email = render(Language.SERBIAN_LATIN, breach, facts_after(breach), LINK)
    assert email.subject == "[MPP-2026-000321] Rok je istekao"
    assert "Rok je istekao 01.03.2027.: execute (EIO art. 12)." in email.text
    assert "Broj predmeta: MPP-2026-000321" in email.text
    assert "Status: dodeljen na izvršenje" in email.text
    assert not any("\u0400" <= character <= "\u04ff" for character in email.text)  # no Cyrillic


def test_english_e_mails_say_the_same_in_english() -> None:
    report = EVERY_EVENT[3]
    email = render(Language.ENGLISH, report, facts_after(report), LINK)
    assert email.subject == "[MPP-2026-000321] Execution report"
    assert (
        "Više javno tužilaštvo u Subotici reported execution: partially executed. "
        "Reports still awaited: 0." in email.text
    )
    assert "Status: executed" in email.text
    closed = render(Language.ENGLISH, EVERY_EVENT[5], facts_after(EVERY_EVENT[5]), LINK)
    assert "Outcome: refused." in closed.text


def test_without_the_received_event_the_request_id_stands_in_for_the_reference() -> None:
    facts = RequestFacts("r1")
    facts.apply(ROUTED)
    email = render(Language.ENGLISH, ROUTED, facts, LINK)
    assert email.subject == "[r1] Request assigned for execution"
