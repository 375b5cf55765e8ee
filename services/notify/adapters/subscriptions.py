"""Subscriptions in notify's database. A deleted one is kept (its deliveries refer to it)
but no longer matched, listed or shown."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import subscriptions
from services.notify.domain.errors import SubscriptionNotFoundError
from services.notify.domain.subscription import (
    AuthorityAudience,
    Channel,
    Language,
    OfficeAudience,
    Owner,
    OwnerKind,
    Role,
    RoleAudience,
    Subscription,
)

_active = subscriptions.c.deleted_at.is_(None)


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, subscription: Subscription) -> Subscription:
        created_at = await self._session.scalar(
            sa.insert(subscriptions)
            .values(**_row(subscription))
            .returning(subscriptions.c.created_at)
        )
        return replace(subscription, created_at=created_at)

    async def get(self, subscription_id: str, owner: Owner | None = None) -> Subscription:
        """The active subscription; with `owner`, only one of that owner's (another's is
        as missing as one that never was)."""
        row = (
            await self._session.execute(
                sa.select(subscriptions).where(
                    subscriptions.c.id == subscription_id, _active, *_of(owner)
                )
            )
        ).first()
        if row is None:
            raise SubscriptionNotFoundError(subscription_id)
        return _subscription(row._mapping)

    async def all(self, owner: Owner | None = None) -> list[Subscription]:
        """Every active subscription, or with `owner` that owner's."""
        rows = await self._session.execute(
            sa.select(subscriptions)
            .where(_active, *_of(owner))
            .order_by(subscriptions.c.created_at)
        )
        return [_subscription(row._mapping) for row in rows]

    async def wanting(self, event_types: Iterable[str]) -> list[Subscription]:
        """The active subscriptions that take events of any of these types (audience not
        yet checked)."""
        rows = await self._session.execute(
            sa.select(subscriptions).where(
                _active,
                subscriptions.c.event_types.overlap(
                    sa.bindparam(None, sorted(set(event_types)), type_=ARRAY(sa.String(100)))
                ),
            )
        )
        return [_subscription(row._mapping) for row in rows]

    async def delete(self, subscription_id: str, owner: Owner | None = None) -> None:
        deleted = await self._session.scalar(
            sa.update(subscriptions)
            .where(subscriptions.c.id == subscription_id, _active, *_of(owner))
            .values(deleted_at=sa.func.now())
            .returning(subscriptions.c.id)
        )
        if deleted is None:
            raise SubscriptionNotFoundError(subscription_id)


def _row(subscription: Subscription) -> dict[str, Any]:
    audience = subscription.audience
    return {
        "id": subscription.id,
        "channel": subscription.channel.value,
        "event_types": list(subscription.event_types),
        "default_event_types": subscription.defaults,
        "authority_name": audience.name if isinstance(audience, AuthorityAudience) else None,
        "authority_country": audience.country if isinstance(audience, AuthorityAudience) else None,
        "office_id": audience.office_id if isinstance(audience, OfficeAudience) else None,
        "role": audience.role.value if isinstance(audience, RoleAudience) else None,
        "url": subscription.url,
        "secret": subscription.secret,
        "recipients": list(subscription.recipients) or None,
        "language": subscription.language.value if subscription.channel is Channel.EMAIL else None,
        "description": subscription.description,
        "owner_kind": subscription.owner.kind.value if subscription.owner else None,
        "owner_id": subscription.owner.id if subscription.owner else None,
    }


def _of(owner: Owner | None) -> list[sa.ColumnElement[bool]]:
    if owner is None:
        return []
    return [subscriptions.c.owner_kind == owner.kind.value, subscriptions.c.owner_id == owner.id]


def _subscription(row: Any) -> Subscription:
    audience: AuthorityAudience | OfficeAudience | RoleAudience | None = None
    if row["authority_name"]:
        audience = AuthorityAudience(row["authority_name"], row["authority_country"])
    elif row["office_id"]:
        audience = OfficeAudience(row["office_id"])
    elif row["role"]:
        audience = RoleAudience(Role(row["role"]))
    return Subscription(
        id=row["id"],
        channel=Channel(row["channel"]),
        event_types=tuple(row["event_types"]),
        audience=audience,
        url=row["url"],
        secret=row["secret"],
        recipients=tuple(row["recipients"] or ()),
        language=Language(row["language"] or Language.SERBIAN_LATIN),
        description=row["description"],
        owner=Owner(OwnerKind(row["owner_kind"]), row["owner_id"]) if row["owner_kind"] else None,
        defaults=row["default_event_types"],
        created_at=row["created_at"],
    )
