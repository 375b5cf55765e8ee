"""Who gets which event: the audiences, their default event types, and the checks."""

from __future__ import annotations

import pytest

from services.notify.domain.draft import SubscriptionDraft
from services.notify.domain.errors import InvalidSubscriptionError
from services.notify.domain.subscription import (
    AuthorityAudience,
    Channel,
    Language,
    Notice,
    OfficeAudience,
    Role,
    RoleAudience,
)

KEY = bytes(32)
ALL_TYPES = (
    "mla.request.received",
    "mla.request.routed",
    "mla.request.routing_failed",
    "mla.request.assignment_declined",
    "mla.request.executed",
    "mla.request.withdrawn",
    "mla.request.closed",
    "mla.request.deadline_approaching",
    "mla.request.deadline_breached",
)
LJUBLJANA = "District State Prosecutor's Office in Ljubljana"


def notice(type_: str, offices: frozenset[str] = frozenset(), name: str = LJUBLJANA) -> Notice:
    return Notice(
        type=f"mla.request.{type_}",
        request_id="r1",
        authority_name=name,
        authority_country="SI",
        offices=offices,
    )


def wanted(draft: SubscriptionDraft, notices: list[Notice]) -> list[str]:
    subscription = draft.accept("s1", KEY)
    return [n.type.removeprefix("mla.request.") for n in notices if subscription.wants(n)]


def every_event(offices: frozenset[str] = frozenset({"vjt-subotica"})) -> list[Notice]:
    return [notice(t.removeprefix("mla.request."), offices) for t in ALL_TYPES]


def test_a_requesting_authority_gets_the_status_changes_of_its_own_requests() -> None:
    draft = SubscriptionDraft(channel="webhook", url="https://x.si/h", authority_name=LJUBLJANA)
    assert wanted(draft, every_event()) == [
        "received",
        "routed",
        "assignment_declined",
        "executed",
        "withdrawn",
        "closed",
    ]
    assert wanted(draft, [notice("received", name="Tribunal de Paris")]) == []


def test_an_authority_is_matched_by_name_whatever_its_spacing_and_case_and_by_country() -> None:
    loose = SubscriptionDraft(
        channel="webhook",
        url="https://x.si/h",
        authority_name="  district state PROSECUTOR'S office in   ljubljana",
    )
    assert wanted(loose, [notice("received")]) == ["received"]
    elsewhere = SubscriptionDraft(
        channel="webhook", url="https://x.si/h", authority_name=LJUBLJANA, authority_country="hr"
    )
    assert wanted(elsewhere, [notice("received")]) == []


def test_an_executing_office_gets_its_new_assignments_and_its_deadline_alerts() -> None:
    draft = SubscriptionDraft(channel="email", recipients=("a@vjt.rs",), office_id="vjt-subotica")
    assert wanted(draft, every_event()) == ["routed", "deadline_approaching", "deadline_breached"]
    assert wanted(draft, every_event(frozenset({"vjt-novi-sad"}))) == []


def test_the_operators_get_routing_failures_and_breaches_of_every_request() -> None:
    draft = SubscriptionDraft(channel="email", recipients=("ops@rjt.rs",), role="operators")
    assert wanted(draft, every_event(frozenset())) == ["routing_failed", "deadline_breached"]


def test_named_event_types_replace_the_defaults_and_the_audience_still_applies() -> None:
    draft = SubscriptionDraft(
        channel="webhook",
        url="https://x.si/h",
        office_id="vjt-subotica",
        event_types=("mla.request.closed",),
    )
    assert wanted(draft, every_event()) == ["closed"]
    assert wanted(draft, every_event(frozenset({"vjt-novi-sad"}))) == []


def test_without_an_audience_the_named_types_of_every_request_are_sent() -> None:
    draft = SubscriptionDraft(
        channel="webhook", url="https://x.si/h", event_types=("mla.request.received",)
    )
    assert wanted(draft, [notice("received", name="Tribunal de Paris")]) == ["received"]


def test_an_accepted_subscription_keeps_what_was_asked() -> None:
    email = SubscriptionDraft(
        channel="email", recipients=("a@b.rs", "a@b.rs", "c@d.rs"), language="en", role="operators"
    ).accept("s1", KEY)
    assert email.channel is Channel.EMAIL and email.language is Language.ENGLISH
    assert email.recipients == ("a@b.rs", "c@d.rs")
    assert email.audience == RoleAudience(Role.OPERATORS) and email.defaults
    hook = SubscriptionDraft(
        channel="webhook", url=" https://x.si/h ", office_id="vjt-subotica"
    ).accept("s2", KEY)
    assert hook.url == "https://x.si/h" and hook.audience == OfficeAudience("vjt-subotica")
    assert hook.secret == "whsec_" + "A" * 43 + "="  # made of the key it was given
    named = SubscriptionDraft(
        channel="webhook", url="https://x.si/h", authority_name="X", authority_country="si"
    ).accept("s3", KEY)
    assert named.audience == AuthorityAudience("X", "SI")


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (SubscriptionDraft(channel="webhook", url="https://x.si/h"), "event_types"),
        (SubscriptionDraft(channel="webhook", url="https://x.si/h", event_types=()), "event_types"),
        (SubscriptionDraft(channel="webhook", role="operators"), "url"),
        (SubscriptionDraft(channel="webhook", url="gopher://x", role="operators"), "url"),
        (
            SubscriptionDraft(channel="webhook", url="https://x.si", role="operators", secret="x"),
            "secret",
        ),
        (SubscriptionDraft(channel="email", role="operators"), "recipients"),
        (
            SubscriptionDraft(channel="email", role="operators", recipients=("no-at-sign",)),
            "recipients.0",
        ),
        (
            SubscriptionDraft(
                channel="email", role="operators", recipients=("a@b.rs",), secret="whsec_x"
            ),
            "secret",
        ),
        (
            SubscriptionDraft(
                channel="email", recipients=("a@b.rs",), authority_country="SI", role=None
            ),
            "authority.name",
        ),
        (
            SubscriptionDraft(
                channel="email", recipients=("a@b.rs",), authority_name="X", authority_country="S"
            ),
            "authority.country",
        ),
        (SubscriptionDraft(channel="pigeon", role="operators"), "channel"),
    ],
)
def test_a_draft_that_breaks_a_rule_names_the_field(draft: SubscriptionDraft, field: str) -> None:
    with pytest.raises(InvalidSubscriptionError) as refused:
        draft.accept("s1", KEY)
    assert refused.value.field == field
