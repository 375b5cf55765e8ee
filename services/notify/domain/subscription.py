"""Subscriptions: who wants which events, about which requests, over which channel.

A subscription may target an *audience*: the requests of one requesting authority, the
assignments of one executing office, or a role (the operators). When it does and names no
event types, it gets the defaults of that audience (the routing of messages the department
promises):

- a requesting authority's system: the status changes of its own requests;
- an executing office: its new assignments and the deadline alerts of its requests;
- the operators: requests no rule could route, and breached deadlines.

Named event types replace the defaults; the audience still limits which requests they are
about. A subscription without an audience gets the named types of every request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.notify.domain.errors import InvalidSubscriptionError
from shared.events.catalogue import (
    ASSIGNMENT_DECLINED,
    CATALOGUE,
    CLOSED,
    DEADLINE_APPROACHING,
    DEADLINE_BREACHED,
    EXECUTED,
    RECEIVED,
    ROUTED,
    ROUTING_FAILED,
    WITHDRAWN,
)


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class Role(StrEnum):
    OPERATORS = "operators"


class Language(StrEnum):
    SERBIAN_LATIN = "sr-Latn"
    ENGLISH = "en"


@dataclass(frozen=True)
class AuthorityAudience:
    """The requests of one requesting authority, by name (and country, when given)."""

    name: str
    country: str | None = None

    def covers(self, name: str | None, country: str | None) -> bool:
        if name is None or _normal(name) != _normal(self.name):
            return False
        return self.country is None or self.country == (country or "").upper()


@dataclass(frozen=True)
class OfficeAudience:
    """The assignments of one executing office."""

    office_id: str


@dataclass(frozen=True)
class RoleAudience:
    role: Role


Audience = AuthorityAudience | OfficeAudience | RoleAudience

DEFAULT_EVENT_TYPES: dict[type[Audience], tuple[str, ...]] = {
    AuthorityAudience: (RECEIVED, ROUTED, ASSIGNMENT_DECLINED, EXECUTED, WITHDRAWN, CLOSED),
    OfficeAudience: (ROUTED, DEADLINE_APPROACHING, DEADLINE_BREACHED),
    RoleAudience: (ROUTING_FAILED, DEADLINE_BREACHED),
}


class OwnerKind(StrEnum):
    AUTHORITY = "authority"
    OFFICE = "office"


@dataclass(frozen=True)
class Owner:
    """Whose a subscription is, when it is not the department's: a requesting authority or
    an executing office (by their identifiers in the caller's token). It then gets only the
    events of requests its owner may read, whatever its audience says."""

    kind: OwnerKind
    id: str

    def reads(self, notice: Notice) -> bool:
        if self.kind is OwnerKind.AUTHORITY:
            return notice.authority == self.id
        return self.id in notice.offices


@dataclass(frozen=True)
class Notice:
    """What one event is about, as far as choosing its recipients goes."""

    type: str
    request_id: str
    authority_name: str | None = None
    authority_country: str | None = None
    # The identifier of the authority that submitted the request (None: the department).
    authority: str | None = None
    # The offices the event concerns: those given a new assignment by a `routed`, the office
    # that executed or declined, the offices holding the request for anything else.
    offices: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Subscription:
    id: str
    channel: Channel
    event_types: tuple[str, ...]
    audience: Audience | None = None
    url: str | None = None
    secret: str | None = None
    recipients: tuple[str, ...] = ()
    language: Language = Language.SERBIAN_LATIN
    description: str | None = None
    owner: Owner | None = None  # None: the department's
    defaults: bool = field(default=False, compare=False)  # event types are the audience's
    created_at: datetime | None = field(default=None, compare=False)

    def wants(self, notice: Notice) -> bool:
        """True when this subscription should get a message for the event."""
        return (
            notice.type in self.event_types
            and _concerns(self.audience, notice)
            and (self.owner is None or self.owner.reads(notice))
        )


def _concerns(audience: Audience | None, notice: Notice) -> bool:
    match audience:
        case None | RoleAudience():
            return True
        case AuthorityAudience():
            return audience.covers(notice.authority_name, notice.authority_country)
        case OfficeAudience():
            return audience.office_id in notice.offices
    return False  # pragma: no cover - the match is exhaustive


def event_types_for(audience: Audience | None, named: Sequence[str] | None) -> tuple[str, ...]:
    """The event types a subscription gets: those named, else its audience's defaults."""
    if named is None:
        if audience is None:
            raise InvalidSubscriptionError(
                "event_types",
                "name the event types: a subscription without an audience (authority, "
                "office_id or role) has no default ones",
            )
        return DEFAULT_EVENT_TYPES[type(audience)]
    if not named:
        raise InvalidSubscriptionError("event_types", "name at least one event type")
    unknown = sorted(set(named) - set(CATALOGUE))
    if unknown:
        raise InvalidSubscriptionError(
            "event_types",
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(CATALOGUE)}",
        )
    return tuple(dict.fromkeys(named))


def audience_of(
    *,
    authority_name: str | None,
    authority_country: str | None,
    office_id: str | None,
    role: str | None,
) -> Audience | None:
    """The one audience a subscription names, or None; more than one is refused."""
    named = [
        name
        for name, value in (
            ("authority", authority_name),
            ("office_id", office_id),
            ("role", role),
        )
        if value
    ]
    if len(named) > 1:
        raise InvalidSubscriptionError(
            named[1], f"name one audience at most, not {' and '.join(named)}"
        )
    if authority_name:
        return AuthorityAudience(authority_name.strip(), _country(authority_country))
    if authority_country:
        raise InvalidSubscriptionError("authority.name", "an authority is chosen by its name")
    if office_id:
        return OfficeAudience(office_id.strip())
    if role:
        try:
            return RoleAudience(Role(role))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            message = f"unknown role {role!r}; known: {known}"
            raise InvalidSubscriptionError("role", message) from None
    return None


_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def recipients_of(addresses: Sequence[str] | None) -> tuple[str, ...]:
    """The e-mail recipients, checked one by one (no header injection, no display names)."""
    if not addresses:
        raise InvalidSubscriptionError("recipients", "an e-mail subscription needs recipients")
    for position, address in enumerate(addresses):
        if not _EMAIL.match(address):
            raise InvalidSubscriptionError(
                f"recipients.{position}", f"{address!r} is not a plain e-mail address"
            )
    return tuple(dict.fromkeys(a.strip() for a in addresses))


def _country(code: str | None) -> str | None:
    if code is None:
        return None
    upper = code.strip().upper()
    if len(upper) != 2 or not upper.isalpha():
        raise InvalidSubscriptionError("authority.country", "an ISO 3166-1 alpha-2 code, like SI")
    return upper


def _normal(name: str) -> str:
    return " ".join(name.split()).casefold()
