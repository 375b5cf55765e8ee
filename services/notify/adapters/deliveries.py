"""Deliveries in notify's database: created with their event, claimed by workers, recorded.

Claiming takes due rows with `FOR UPDATE SKIP LOCKED` and leases them in one short
transaction, so that several instances share the work without sending a delivery twice at
once, and no transaction stays open while a receiver is slow. A lease that runs out (its
instance died mid-attempt) makes the delivery due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.delivery_log import DeliveryLog
from services.notify.adapters.tables import deliveries, inbox, subscriptions
from services.notify.domain.delivery import OPEN, RETRYABLE, DeliveryStatus, RetryPolicy
from services.notify.domain.errors import DeliveryNotFoundError, DeliveryNotRetryableError

_now = sa.func.now


@dataclass(frozen=True)
class NewDelivery:
    id: str
    event_key: str
    subscription_id: str
    request_id: str
    event_type: str
    channel: str
    email_subject: str | None = None
    email_text: str | None = None


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery leased for one attempt, with everything the attempt needs."""

    id: str
    lease_id: str
    channel: str
    attempts: int  # made before this one
    url: str | None
    secret: str | None
    recipients: tuple[str, ...]
    language: str | None
    email_subject: str | None
    email_text: str | None
    envelope: bytes | None


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: list[NewDelivery]) -> int:
        """Insert the deliveries that do not exist yet; returns how many were new."""
        if not new:
            return 0
        rows = [
            {**vars(d), "status": DeliveryStatus.PENDING.value, "next_attempt_at": _now()}
            for d in new
        ]
        created = await self._session.scalars(
            insert(deliveries)
            .values(rows)
            .on_conflict_do_nothing(constraint="uq_deliveries_event_subscription")
            .returning(deliveries.c.id)
        )
        return len(created.all())

    async def claim(self, limit: int, lease_id: str, lease: timedelta) -> list[ClaimedDelivery]:
        """Lease up to `limit` due deliveries of active subscriptions, oldest due first."""
        due = (
            sa.select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.status.in_([s.value for s in OPEN]),
                deliveries.c.next_attempt_at <= _now(),
                sa.or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < _now()),
                subscriptions.c.deleted_at.is_(None),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        await self._session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(due))
            .values(lease_id=lease_id, leased_until=_now() + lease)
        )
        rows = await self._session.execute(
            sa.select(
                deliveries.c.id,
                deliveries.c.channel,
                deliveries.c.attempts,
                deliveries.c.email_subject,
                deliveries.c.email_text,
                subscriptions.c.url,
                subscriptions.c.secret,
                subscriptions.c.recipients,
                subscriptions.c.language,
                inbox.c.envelope,
            )
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .outerjoin(inbox, inbox.c.event_key == deliveries.c.event_key)
            .where(deliveries.c.lease_id == lease_id)
        )
        return [
            ClaimedDelivery(
                id=row.id,
                lease_id=lease_id,
                channel=row.channel,
                attempts=row.attempts,
                url=row.url,
                secret=row.secret,
                recipients=tuple(row.recipients or ()),
                language=row.language,
                email_subject=row.email_subject,
                email_text=row.email_text,
                envelope=row.envelope,
            )
            for row in rows
        ]

    async def record_success(self, claimed: ClaimedDelivery, status_code: int | None) -> None:
        await self._session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == claimed.id, deliveries.c.lease_id == claimed.lease_id)
            .values(
                status=DeliveryStatus.DELIVERED.value,
                attempts=deliveries.c.attempts + 1,
                last_attempt_at=_now(),
                last_status_code=status_code,
                last_error=None,
                delivered_at=_now(),
                lease_id=None,
                leased_until=None,
            )
        )

    async def record_failure(
        self,
        claimed: ClaimedDelivery,
        *,
        error: str,
        status_code: int | None,
        policy: RetryPolicy,
        jitter: float,
    ) -> DeliveryStatus:
        """Count the failed attempt; schedule the next one or make the delivery dead."""
        status, delay = policy.after_failure(claimed.attempts + 1, jitter)
        deleted = (
            sa.select(subscriptions.c.deleted_at)
            .where(subscriptions.c.id == deliveries.c.subscription_id)
            .scalar_subquery()
        )
        await self._session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == claimed.id, deliveries.c.lease_id == claimed.lease_id)
            .values(
                status=sa.case(
                    (deleted.is_not(None), DeliveryStatus.CANCELLED.value), else_=status.value
                ),
                attempts=deliveries.c.attempts + 1,
                last_attempt_at=_now(),
                last_status_code=status_code,
                last_error=error[:500],
                next_attempt_at=_now() + timedelta(seconds=delay or 0),
                lease_id=None,
                leased_until=None,
            )
        )
        return status

    async def cancel_open(self, subscription_id: str) -> None:
        """Cancel what a deleted subscription still had to get (not an attempt in flight:
        its outcome is recorded, as cancelled if it failed)."""
        await self._session.execute(
            sa.update(deliveries)
            .where(
                deliveries.c.subscription_id == subscription_id,
                deliveries.c.status.in_([s.value for s in OPEN]),
                sa.or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until < _now()),
            )
            .values(status=DeliveryStatus.CANCELLED.value, lease_id=None, leased_until=None)
        )

    async def reschedule(self, delivery_id: str) -> dict[str, Any]:
        """A failed or dead delivery is due now, with a fresh schedule of attempts."""
        row = (
            await self._session.execute(
                sa.select(
                    deliveries.c.status,
                    (deliveries.c.leased_until > _now()).label("in_flight"),
                    subscriptions.c.deleted_at,
                )
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .where(deliveries.c.id == delivery_id)
                .with_for_update(of=deliveries)
            )
        ).first()
        if row is None:
            raise DeliveryNotFoundError(delivery_id)
        if row.status not in RETRYABLE:
            why = "only a failed or dead delivery is retried by hand"
            raise DeliveryNotRetryableError(delivery_id, row.status, why)
        if row.deleted_at is not None:
            why = "its subscription was deleted"
            raise DeliveryNotRetryableError(delivery_id, row.status, why)
        if row.in_flight:
            why = "an attempt is in progress; ask again when it has finished"
            raise DeliveryNotRetryableError(delivery_id, row.status, why)
        await self._session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=_now())
        )
        return await DeliveryLog(self._session).get(delivery_id)
