"""The delivery worker: sends what is due, concurrently, and records each outcome.

It claims due deliveries in small batches (leased with `FOR UPDATE SKIP LOCKED`, so several
instances share the work) and sends each in its own task, at most `delivery_concurrency` at
once: a receiver that hangs holds one slot until the attempt's timeout, never the others.
Each outcome is recorded in its own short transaction: delivered, failed with the next
attempt scheduled, or dead after the last attempt. The schedule lives in the database, so a
restarted instance resumes it; a lease left by a crashed instance runs out and the delivery
becomes due again (receivers dedupe a repeat by its `webhook-id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify.adapters.deliveries import ClaimedDelivery, DeliveryRepository
from services.notify.adapters.failures import AttemptFailedError
from services.notify.adapters.mail import MailSender
from services.notify.adapters.webhooks import WebhookSender
from services.notify.domain.delivery import DeliveryStatus, RetryPolicy
from services.notify.domain.subscription import Channel
from services.notify.settings import Settings
from shared.backoff import Backoff
from shared.db import is_transient

log = structlog.get_logger("notify.worker")

ATTEMPTS = Counter(
    "mla_notify_delivery_attempts_total",
    "Delivery attempts by channel and outcome (delivered, failed, dead, cancelled).",
    ["channel", "outcome"],
)
# Beyond the attempt's own timeout: time to record its outcome before the lease runs out.
LEASE_MARGIN_SECONDS = 30


class DeliveryWorker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        webhooks: WebhookSender,
        mail: MailSender,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._webhooks = webhooks
        self._mail = mail
        self._policy = RetryPolicy(
            initial_seconds=settings.delivery_initial_backoff_seconds,
            maximum_seconds=settings.delivery_max_backoff_seconds,
            max_attempts=settings.delivery_max_attempts,
        )
        self._timeout = settings.delivery_timeout_seconds
        self._lease = timedelta(seconds=self._timeout + LEASE_MARGIN_SECONDS)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for due deliveries now (a retry was asked for, a slot came free)."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more; `run()` returns once the attempts in flight have finished."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        await self._webhooks.start()
        backoff = Backoff(self._settings.retry_initial_seconds, self._settings.retry_max_seconds)
        try:
            while not self._stopping.is_set():
                wanted = min(
                    self._settings.delivery_batch_size,
                    self._settings.delivery_concurrency - len(self._in_flight),
                )
                claimed: list[ClaimedDelivery] = []
                if wanted > 0:
                    try:
                        claimed = await self._claim(wanted)
                        backoff.reset()
                    except Exception as exc:
                        self._log_database_error("worker.claim_failed", exc)
                        await self._pause(backoff.next_delay())
                        continue
                for delivery in claimed:
                    self._start_attempt(delivery)
                if not claimed or len(claimed) < wanted:
                    await self._pause(self._settings.delivery_poll_seconds)
        finally:
            await self._finish_in_flight()
            await self._webhooks.close()

    async def _claim(self, limit: int) -> list[ClaimedDelivery]:
        async with self._sessions() as session, session.begin():
            return await DeliveryRepository(session).claim(limit, str(uuid.uuid4()), self._lease)

    def _start_attempt(self, delivery: ClaimedDelivery) -> None:
        task = asyncio.create_task(self._attempt(delivery), name=f"delivery-{delivery.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._attempt_done)

    def _attempt_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # a slot is free

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        structlog.contextvars.bind_contextvars(delivery_id=delivery.id)
        try:
            status_code = await asyncio.wait_for(self._send(delivery), self._timeout)
        except AttemptFailedError as exc:
            await self._record_failure(delivery, exc.reason, exc.status_code)
        except TimeoutError:
            await self._record_failure(delivery, f"no answer within {self._timeout:g} s", None)
        except Exception as exc:
            log.exception("delivery.attempt_crashed", channel=delivery.channel)
            await self._record_failure(delivery, f"internal error: {type(exc).__name__}", None)
        else:
            await self._record(lambda repo: repo.record_success(delivery, status_code))
            ATTEMPTS.labels(delivery.channel, "delivered").inc()
            log.info("delivery.delivered", channel=delivery.channel, attempt=delivery.attempts + 1)

    async def _send(self, delivery: ClaimedDelivery) -> int | None:
        if delivery.channel == Channel.WEBHOOK:
            if delivery.envelope is None or delivery.url is None or delivery.secret is None:
                raise AttemptFailedError("the event or the subscription's target is missing")
            return await self._webhooks.send(
                message_id=delivery.id,
                url=delivery.url,
                secret=delivery.secret,
                body=delivery.envelope,
            )
        await self._mail.send(
            message_id=delivery.id,
            recipients=delivery.recipients,
            subject=delivery.email_subject or "",
            text=delivery.email_text or "",
            language=delivery.language or "sr-Latn",
        )
        return None

    async def _record_failure(
        self, delivery: ClaimedDelivery, reason: str, status_code: int | None
    ) -> None:
        outcome: list[DeliveryStatus] = []

        async def record(repo: DeliveryRepository) -> None:
            outcome.append(
                await repo.record_failure(
                    delivery,
                    error=reason,
                    status_code=status_code,
                    policy=self._policy,
                    jitter=random.random(),
                )
            )

        await self._record(record)
        status = outcome[-1].value if outcome else "unrecorded"
        ATTEMPTS.labels(delivery.channel, status).inc()
        event = "delivery.dead" if status == DeliveryStatus.DEAD else "delivery.failed"
        log.warning(event, channel=delivery.channel, attempt=delivery.attempts + 1, reason=reason)

    async def _record(self, write: Callable[[DeliveryRepository], Awaitable[object]]) -> None:
        """Record an outcome, retrying a database outage a few times. If it cannot be
        recorded, the lease runs out and the delivery is attempted again."""
        backoff = Backoff(self._settings.retry_initial_seconds, self._settings.retry_max_seconds)
        for _ in range(5):
            try:
                async with self._sessions() as session, session.begin():
                    await write(DeliveryRepository(session))
                return
            except Exception as exc:
                self._log_database_error("delivery.record_failed", exc)
                await asyncio.sleep(backoff.next_delay())

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _finish_in_flight(self) -> None:
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=self._timeout + 5)
        for task in pending:
            task.cancel()

    @staticmethod
    def _log_database_error(event: str, exc: Exception) -> None:
        if is_transient(exc):
            log.warning(event, error=type(exc).__name__)
        else:
            log.exception(event)
