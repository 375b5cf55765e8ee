"""A subscription as asked for, checked rule by rule into a `Subscription`."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.domain import signature
from services.notify.domain.errors import InvalidSubscriptionError
from services.notify.domain.subscription import (
    Channel,
    Language,
    Owner,
    Subscription,
    audience_of,
    event_types_for,
    recipients_of,
)
from services.notify.domain.targets import parse_target


@dataclass(frozen=True)
class SubscriptionDraft:
    """The fields of `POST /v1/subscriptions`, unchecked."""

    channel: str
    url: str | None = None
    secret: str | None = None
    recipients: tuple[str, ...] | None = None
    language: str | None = None
    event_types: tuple[str, ...] | None = None
    authority_name: str | None = None
    authority_country: str | None = None
    office_id: str | None = None
    role: str | None = None
    description: str | None = None
    owner: Owner | None = None  # set from the caller's token, never from the body

    def accept(self, subscription_id: str, new_key: bytes) -> Subscription:
        """The subscription, or `InvalidSubscriptionError` naming the first field at fault.
        A webhook without a secret gets one made of `new_key` (random bytes)."""
        audience = audience_of(
            authority_name=self.authority_name,
            authority_country=self.authority_country,
            office_id=self.office_id,
            role=self.role,
        )
        event_types = event_types_for(audience, self.event_types)
        url = secret = None
        recipients: tuple[str, ...] = ()
        language = Language.SERBIAN_LATIN
        if self.channel == Channel.WEBHOOK:
            self._refuse("recipients", self.recipients, "a webhook has a url, not recipients")
            self._refuse("language", self.language, "a webhook carries the event, not a text")
            url, secret = self._url(), self._secret(new_key)
        elif self.channel == Channel.EMAIL:
            self._refuse("url", self.url, "an e-mail subscription has recipients, not a url")
            self._refuse("secret", self.secret, "only webhooks are signed")
            recipients, language = recipients_of(self.recipients), self._language()
        else:
            raise InvalidSubscriptionError("channel", "the channel is 'webhook' or 'email'")
        return Subscription(
            id=subscription_id,
            channel=Channel(self.channel),
            event_types=event_types,
            audience=audience,
            url=url,
            secret=secret,
            recipients=recipients,
            language=language,
            description=self.description,
            owner=self.owner,
            defaults=self.event_types is None,
        )

    def _url(self) -> str:
        if not self.url:
            raise InvalidSubscriptionError("url", "a webhook needs the url to call")
        parse_target(self.url)
        return self.url.strip()

    def _secret(self, new_key: bytes) -> str:
        if self.secret is None:
            return signature.new_secret(new_key)
        try:
            signature.key_of(self.secret)
        except signature.InvalidSecretError as exc:
            raise InvalidSubscriptionError("secret", str(exc)) from None
        return self.secret

    def _language(self) -> Language:
        try:
            return Language(self.language or Language.SERBIAN_LATIN)
        except ValueError:
            known = ", ".join(language.value for language in Language)
            raise InvalidSubscriptionError("language", f"the language is one of {known}") from None

    @staticmethod
    def _refuse(field: str, value: object, why: str) -> None:
        if value is not None:
            raise InvalidSubscriptionError(field, why)
