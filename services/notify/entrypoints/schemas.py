"""The shapes of notify's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.notify.domain.draft import SubscriptionDraft
from services.notify.domain.subscription import (
    AuthorityAudience,
    OfficeAudience,
    RoleAudience,
    Subscription,
)

WEBHOOK_EXAMPLE: dict[str, Any] = {
    "channel": "webhook",
    "url": "https://case-system.example.si/mla/events",
    "authority": {"name": "District State Prosecutor's Office in Ljubljana", "country": "SI"},
    "description": "Ljubljana's case system: status of its own requests",
}
EMAIL_EXAMPLE: dict[str, Any] = {
    "channel": "email",
    "recipients": ["medjunarodna@vjt-subotica.example.rs"],
    "office_id": "vjt-subotica",
    "language": "sr-Latn",
}


class AuthorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300, description="As the requester names itself.")
    country: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2; narrows a common name.",
    )


class SubscriptionIn(BaseModel):
    """A webhook (`url`) or an e-mail recipient list (`recipients`), optionally for one
    audience: `authority` (the requests of one requesting authority), `office_id` (the
    assignments of one executing office) or `role` (`operators`). Without `event_types` the
    audience's defaults apply (see the service's README)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [WEBHOOK_EXAMPLE, EMAIL_EXAMPLE]}
    )
    channel: Literal["webhook", "email"]
    url: str | None = Field(None, max_length=2000, description="Webhook: http(s) URL to POST to.")
    secret: str | None = Field(
        None,
        max_length=200,
        description="Webhook: `whsec_<base64 of 24-64 bytes>`; made for you when left out.",
    )
    recipients: list[Annotated[str, Field(min_length=3, max_length=254)]] | None = Field(
        None, max_length=50, description="E-mail: addresses."
    )
    language: Literal["sr-Latn", "en"] | None = Field(
        None, description="E-mail: the language of the text (default sr-Latn)."
    )
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=20, description="Catalogue types; default: the audience's."
    )
    authority: AuthorityIn | None = None
    office_id: str | None = Field(None, min_length=1, max_length=100)
    role: Literal["operators"] | None = None
    description: str | None = Field(None, max_length=300)

    def draft(self) -> SubscriptionDraft:
        return SubscriptionDraft(
            channel=self.channel,
            url=self.url,
            secret=self.secret,
            recipients=tuple(self.recipients) if self.recipients is not None else None,
            language=self.language,
            event_types=tuple(self.event_types) if self.event_types is not None else None,
            authority_name=self.authority.name if self.authority else None,
            authority_country=self.authority.country if self.authority else None,
            office_id=self.office_id,
            role=self.role,
            description=self.description,
        )


class AuthorityOut(BaseModel):
    name: str
    country: str | None


class SubscriptionOut(BaseModel):
    """A subscription as kept (never its secret)."""

    id: str
    channel: str
    event_types: list[str]
    default_event_types: bool = Field(description="True: the audience's defaults apply.")
    authority: AuthorityOut | None = None
    office_id: str | None = None
    role: str | None = None
    url: str | None = None
    recipients: list[str] | None = None
    language: str | None = None
    description: str | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionOut:
        audience = subscription.audience
        return cls(
            id=subscription.id,
            channel=subscription.channel.value,
            event_types=list(subscription.event_types),
            default_event_types=subscription.defaults,
            authority=AuthorityOut(name=audience.name, country=audience.country)
            if isinstance(audience, AuthorityAudience)
            else None,
            office_id=audience.office_id if isinstance(audience, OfficeAudience) else None,
            role=audience.role.value if isinstance(audience, RoleAudience) else None,
            url=subscription.url,
            recipients=list(subscription.recipients) or None,
            language=subscription.language.value if subscription.channel == "email" else None,
            description=subscription.description,
            created_at=subscription.created_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(
        None, description="Webhook: the signing secret. Shown this once only: keep it."
    )


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    """One event for one subscription: its state and its last attempt."""

    id: str = Field(description="Also the `webhook-id` header of every attempt.")
    subscription_id: str
    request_id: str
    event_key: str = Field(description="The event's `source#id`.")
    event_type: str
    channel: str
    status: Literal["pending", "failed", "delivered", "dead", "cancelled"]
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
