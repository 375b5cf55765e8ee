"""The outbox relay: publishes what a committed transaction put on the outbox.

One relay at a time publishes for a database (a transaction-scoped advisory lock), oldest
row first, keyed by request id, so the events of one request reach one partition in the
order they were committed. A row is deleted only after the broker acknowledged it: a crash
in between publishes it again (a duplicate that consumers ignore), never loses it. While the
broker is down, rows wait and the relay retries with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db import is_transient
from shared.events.envelope import CONTENT_TYPE
from shared.kafka import TRANSIENT_KAFKA_ERRORS, ensure_topics, topic_is_empty
from shared.metrics import OUTBOX_PUBLISHED
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.outbox")

BATCH_SIZE = 500


class OutboxRelay:
    """Moves outbox rows to the lifecycle topic; `wake()` after a commit publishes at once."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: sa.Table,
        settings: ServiceSettings,
        producer_factory: Callable[[], AIOKafkaProducer],
        service: str,
        history: Callable[[AsyncSession], Awaitable[int]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._settings = settings
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._lock_key = zlib.crc32(f"outbox:{service}".encode())
        self._backoff = Backoff(settings.retry_initial_seconds, settings.retry_max_seconds)
        # Puts the service's whole history back on the outbox (see `_heal`).
        self._history = history
        self._healed = False

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until `stop()`; outages are waited out, never fatal. On the way out,
        flush what is committed (bounded: whatever is left waits for the next start)."""
        try:
            while not self._stopping:
                try:
                    await self._heal()
                    published = await self.publish_batch()
                except Exception as exc:
                    await self._recover(exc)
                    continue
                self._backoff.reset()
                if published < BATCH_SIZE:
                    await self._sleep(self._settings.outbox_poll_seconds)
            await asyncio.wait_for(self._drain(), timeout=5)
        except Exception as exc:
            log.warning("outbox.flush_incomplete", error=type(exc).__name__)
        finally:
            await self._close_producer()

    def stop(self) -> None:
        """Ask `run()` to flush and return."""
        self._stopping = True
        self._wakeup.set()

    async def publish_batch(self) -> int:
        """Publish up to one batch of outbox rows; returns how many were published."""
        producer = await self._ensure_producer()
        async with self._sessions() as session, session.begin():
            locked = await session.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(self._lock_key))
            )
            if not locked:
                return 0  # another instance of this service is publishing
            rows = (
                await session.execute(
                    sa.select(self._outbox).order_by(self._outbox.c.id).limit(BATCH_SIZE)
                )
            ).all()
            if not rows:
                return 0
            sends = [
                await producer.send(
                    self._settings.topic,
                    value=row.body,
                    key=row.key.encode(),
                    headers=[
                        ("content-type", CONTENT_TYPE.encode()),
                        ("ce_type", row.type.encode()),
                    ],
                )
                for row in rows
            ]
            # Waited for without cancelling them (a cancelled send can leave the client stuck):
            # past the timeout the batch counts as failed, the transaction rolls back and the
            # rows are sent again by a fresh producer.
            _, pending = await asyncio.wait(sends, timeout=self._settings.publish_timeout_seconds)
            if pending:
                raise KafkaTimeoutError(f"{len(pending)} event(s) not acknowledged in time")
            for send in sends:
                send.result()  # raises the broker's error, if any
            await session.execute(
                sa.delete(self._outbox).where(self._outbox.c.id.in_([row.id for row in rows]))
            )
        OUTBOX_PUBLISHED.inc(len(rows))
        log.debug("outbox.published", count=len(rows))
        return len(rows)

    async def _heal(self) -> None:
        """Once per broker connection: if the topic is empty while this service has a
        history, the broker lost its log (the embedded broker keeps nothing across a
        restart). Events already published but not yet consumed would be lost with it, so
        the whole history is queued again; consumers skip what they already handled."""
        if self._history is None or self._healed:
            return
        if await topic_is_empty(self._settings.kafka_bootstrap_servers, self._settings.topic):
            async with self._sessions() as session, session.begin():
                await session.execute(sa.select(sa.func.pg_advisory_xact_lock(self._lock_key)))
                count = await self._history(session)
            if count:
                log.warning("outbox.history_requeued", count=count)
        self._healed = True

    async def _drain(self) -> None:
        while await self.publish_batch() == BATCH_SIZE:
            pass

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 5)
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # Stopping a producer whose broker vanished can hang: give it a bounded chance.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)

    async def _recover(self, exc: Exception) -> None:
        try:
            await self._after_failure(exc)
        except Exception:
            # The relay must outlive anything: what it could not publish waits in the table.
            log.exception("outbox.recovery_failed")
            await self._sleep(self._settings.retry_max_seconds)

    async def _after_failure(self, exc: Exception) -> None:
        if isinstance(exc, (*TRANSIENT_KAFKA_ERRORS, TimeoutError)):
            # A fresh producer after a broker outage, and the topic again if the broker lost
            # it (the embedded broker keeps nothing across a restart).
            await self._close_producer()
            await self._provision_topic()
            self._healed = False  # the broker may have come back without its log
        elif not is_transient(exc):
            log.exception("outbox.publish_failed")
        delay = self._backoff.next_delay()
        log.warning("outbox.retrying", error=type(exc).__name__, delay=round(delay, 2))
        await self._sleep(delay)

    async def _provision_topic(self) -> None:
        if not self._settings.provision_topics:
            return
        with contextlib.suppress(*TRANSIENT_KAFKA_ERRORS, TimeoutError):
            await asyncio.wait_for(
                ensure_topics(
                    self._settings.kafka_bootstrap_servers,
                    {
                        self._settings.topic: self._settings.topic_partitions,
                        self._settings.dlq_topic: 1,
                    },
                ),
                self._settings.publish_timeout_seconds,
            )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)
        self._wakeup.clear()
