"""notify's use cases: take each event in and decide its deliveries; keep subscriptions;
show and retry deliveries. Sending is the worker's (`entrypoints/worker.py`)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.deliveries import DeliveryRepository, NewDelivery
from services.notify.adapters.delivery_log import DeliveryFilter, DeliveryLog
from services.notify.adapters.inbox import keep_in_inbox
from services.notify.adapters.requests import RequestFactsRepository
from services.notify.adapters.subscriptions import SubscriptionRepository
from services.notify.adapters.tables import inbox
from services.notify.adapters.targets import TargetGuard
from services.notify.domain.delivery import delivery_id
from services.notify.domain.draft import SubscriptionDraft
from services.notify.domain.request_facts import RequestFacts
from services.notify.domain.subscription import Channel, Owner, Subscription
from services.notify.domain.templates import render
from shared.db import UnitOfWork
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent

log = structlog.get_logger("notify")


async def take_in(
    session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]], *, tracking_url: str
) -> None:
    """Consumer handler: keep the events, update their requests' facts and create one
    delivery per subscription that wants each event, all in the consumer's transaction (the
    one that records the events as processed), so that a crash loses no delivery and a
    redelivery adds none. A batch is read and written table by table, one statement each."""
    await keep_in_inbox(session, events)
    facts_repo = RequestFactsRepository(session)
    facts = await facts_repo.get_all(payload.request_id for _, payload in events)
    subscriptions = await SubscriptionRepository(session).wanting(event.type for event, _ in events)
    new = []
    for event, payload in events:
        # In the batch's order: each event sees the facts as the events before it left them.
        request = facts[payload.request_id]
        notice = request.apply(payload)
        link = f"{tracking_url.rstrip('/')}/v1/requests/{payload.request_id}"
        wanting = [each for each in subscriptions if each.wants(notice)]
        new += [_delivery(event, payload, request, each, link) for each in wanting]
        if wanting:
            log.info(
                "deliveries.created",
                type=event.type,
                request_id=payload.request_id,
                count=len(wanting),
            )
    await facts_repo.save_all(list(facts.values()))
    await DeliveryRepository(session).add(new)


def _delivery(
    event: CloudEvent, payload: Payload, facts: RequestFacts, subscription: Subscription, link: str
) -> NewDelivery:
    email = (
        render(subscription.language, payload, facts, link)
        if subscription.channel is Channel.EMAIL
        else None
    )
    return NewDelivery(
        id=delivery_id(event.dedup_key, subscription.id),
        event_key=event.dedup_key,
        subscription_id=subscription.id,
        request_id=payload.request_id,
        event_type=event.type,
        channel=subscription.channel.value,
        email_subject=email.subject if email else None,
        email_text=email.text if email else None,
    )


async def subscribe(uow: UnitOfWork, draft: SubscriptionDraft, guard: TargetGuard) -> Subscription:
    """Create a subscription; a webhook's target is checked (resolved) before it is kept."""
    subscription = draft.accept(str(uuid.uuid4()), secrets.token_bytes(32))
    if subscription.url is not None:
        await guard.check(subscription.url)
    async with uow:
        stored = await SubscriptionRepository(uow.session).add(subscription)
        await uow.commit()
    log.info("subscription.created", subscription_id=stored.id, channel=stored.channel.value)
    return stored


async def subscriptions(uow: UnitOfWork, owner: Owner | None = None) -> list[Subscription]:
    """The active subscriptions (with `owner`: that owner's only)."""
    async with uow:
        return await SubscriptionRepository(uow.session).all(owner)


async def subscription(
    uow: UnitOfWork, subscription_id: str, owner: Owner | None = None
) -> Subscription:
    async with uow:
        return await SubscriptionRepository(uow.session).get(subscription_id, owner)


async def unsubscribe(uow: UnitOfWork, subscription_id: str, owner: Owner | None = None) -> None:
    """Delete a subscription: nothing more is created for it, and what it still had to get
    is cancelled. Its delivery log stays."""
    async with uow:
        await SubscriptionRepository(uow.session).delete(subscription_id, owner)
        await DeliveryRepository(uow.session).cancel_open(subscription_id)
        await uow.commit()
    log.info("subscription.deleted", subscription_id=subscription_id)


async def deliveries(
    uow: UnitOfWork, where: DeliveryFilter, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    async with uow:
        return await DeliveryLog(uow.session).page(where, limit, cursor)


async def delivery(uow: UnitOfWork, delivery_id: str) -> dict[str, Any]:
    async with uow:
        return await DeliveryLog(uow.session).get(delivery_id)


async def retry(uow: UnitOfWork, delivery_id: str) -> dict[str, Any]:
    """Reschedule a failed or dead delivery now, with a fresh schedule of attempts."""
    async with uow:
        rescheduled = await DeliveryRepository(uow.session).reschedule(delivery_id)
        await uow.commit()
    log.info("delivery.rescheduled", delivery_id=delivery_id)
    return rescheduled


async def facts_of(uow: UnitOfWork, request_id: str) -> RequestFacts:
    """What notify knows of a request (empty facts for one it has not heard of)."""
    async with uow:
        return await RequestFactsRepository(uow.session).get(request_id)


async def inbox_of(uow: UnitOfWork, request_id: str) -> list[dict[str, object]]:
    async with uow:
        rows = await uow.session.execute(
            sa.select(inbox.c.type, inbox.c.time, inbox.c.received_at)
            .where(inbox.c.request_id == request_id)
            .order_by(inbox.c.time)
        )
        return [dict(row._mapping) for row in rows]
