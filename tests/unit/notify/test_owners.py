"""A subscription of an authority or an office gets only what its owner may read."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notify.domain.request_facts import RequestFacts
from services.notify.domain.subscription import (
    Channel,
    Notice,
    Owner,
    OwnerKind,
    Role,
    RoleAudience,
    Subscription,
)
from shared.events.catalogue import CLOSED, ROUTED, RequestReceived
from shared.request.model import EXAMPLE_REQUEST
from shared.request.submission import RequestSubmission, to_details

EVERYTHING = (ROUTED, CLOSED)


def subscription(owner: Owner | None) -> Subscription:
    return Subscription(id="s", channel=Channel.WEBHOOK, event_types=EVERYTHING, owner=owner)


def notice(authority: str | None, offices: frozenset[str] = frozenset()) -> Notice:
    return Notice(type=CLOSED, request_id="r", authority=authority, offices=offices)


def test_an_authoritys_subscription_gets_its_own_requests_only() -> None:
    own = subscription(Owner(OwnerKind.AUTHORITY, "si-dsp-ljubljana"))
    assert own.wants(notice("si-dsp-ljubljana"))
    assert not own.wants(notice("fr-pnf-paris"))
    assert not own.wants(notice(None))  # the department's own request


def test_an_offices_subscription_gets_what_concerns_the_office_only() -> None:
    own = subscription(Owner(OwnerKind.OFFICE, "vjt-subotica"))
    assert own.wants(notice(None, frozenset({"vjt-subotica", "vjt-nis"})))
    assert not own.wants(notice("si-dsp-ljubljana", frozenset({"vjt-nis"})))


def test_the_departments_subscription_gets_every_request() -> None:
    assert subscription(None).wants(notice("fr-pnf-paris"))
    operators = Subscription(
        id="o", channel=Channel.EMAIL, event_types=EVERYTHING, audience=RoleAudience(Role.OPERATORS)
    )
    assert operators.wants(notice(None))


def test_the_facts_keep_the_submitting_authority_from_received() -> None:
    details = to_details(RequestSubmission.model_validate(EXAMPLE_REQUEST))
    received = RequestReceived(
        request_id="r",
        domestic_reference="MPP-2026-000001",
        received_at=datetime.now(UTC),
        details=details,
        authority="si-dsp-ljubljana",
    )
    facts = RequestFacts(request_id="r")
    assert facts.apply(received).authority == "si-dsp-ljubljana"
    assert facts.authority == "si-dsp-ljubljana"
