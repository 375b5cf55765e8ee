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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import NamedTuple

import asyncpg
import sqlalchemy as sa
import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import murmur2
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db import autocommit_driver, is_transient, quoted
from shared.events.envelope import CONTENT_TYPE
from shared.kafka import (
    TRANSIENT_KAFKA_ERRORS,
    end_offsets,
    ensure_topics,
    message_mark,
    messages_replaced,
)
from shared.metrics import OUTBOX_PUBLISH_DELAY, OUTBOX_PUBLISHED
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.outbox")

BATCH_SIZE = 500


# The relay's transaction, begun with the table scans its statement could be planned with
# ruled out, in the round trip of its BEGIN. The outbox is a queue: every row is deleted
# moments after it is stored, and its pages fill until a vacuum finds their room again and
# cuts the table back to a page or two. The plan PostgreSQL keeps for the statement is made
# then, for a table of a page or two, and scanning it whole is cheapest; kept until the
# next vacuum, it scanned 300-400 pages of deleted rows at every batch under load, up to a
# millisecond of the database's CPU for a row or two (docs/benchmarks/system.md, 62). A
# plan made with scans ruled out finds the rows by their key at any size.
_BEGIN = "BEGIN; SET LOCAL enable_seqscan = off"


@contextlib.asynccontextmanager
async def _transaction(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """`_BEGIN` … COMMIT, or ROLLBACK when the block fails. A connection that cannot roll
    back (lost, or a statement cut off halfway) is closed, so that `autocommit_driver`
    discards it rather than give the pool a connection inside a transaction."""
    await connection.execute(_BEGIN)
    try:
        yield
    except BaseException:
        try:
            await connection.execute("ROLLBACK")
        except BaseException:
            connection.terminate()
        raise
    await connection.execute("COMMIT")


class _Row(NamedTuple):
    id: int
    key: str
    type: str
    body: bytes
    waited: float  # seconds since the transaction that stored it began, when taken


# How often a relay asks the broker whether it still holds what it acknowledged.
LOG_CHECK_SECONDS = 5.0


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
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._outbox = outbox
        self._take_sql = (
            # The ids taken first, as an array, then their rows by the key (see `_BEGIN`).
            "WITH mine AS (SELECT pg_try_advisory_xact_lock($1) AS held) "
            f"DELETE FROM {quoted(outbox)} WHERE id = ANY(ARRAY(SELECT id FROM {quoted(outbox)}, "
            "mine WHERE mine.held ORDER BY id LIMIT $2)) RETURNING id, key, type, body, "
            # The database's clock on both ends: the service's may differ from it.
            "COALESCE(CAST(extract(epoch FROM clock_timestamp() - created_at) AS float8), 0)"
        )
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
        # The highest offset the broker acknowledged in each partition since the history
        # was last queued, with the mark of that message (shared.kafka.message_mark): a
        # broker whose log no longer holds that message there has lost the log.
        self._acked: dict[int, tuple[int, int]] = {}
        self._log_lost = False  # set when the broker gave an offset it had given before
        self._log_checked = 0.0
        self._last_published = 0.0  # the loop's clock when the broker last acknowledged a batch

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
        # On the driver's connection, in a transaction begun on it rather than a session's
        # (whose checkout, BEGIN and commit cost the relay an eighth more CPU a one-event
        # batch, docs/benchmarks/system.md change 61), one statement: a relay looks at its
        # outbox after every command. The rows are taken out at once and published before
        # the commit: a failure rolls the transaction back and puts them back, in their
        # place. None when another instance of this service holds the lock (it publishes).
        async with autocommit_driver(self._engine) as connection, _transaction(connection):
            taken = await connection.fetch(self._take_sql, self._lock_key, BATCH_SIZE)
            taken_at = asyncio.get_running_loop().time()
            rows = sorted((_Row(*row) for row in taken), key=lambda row: row.id)
            if not rows:
                return 0
            partitions = await self._partitions(producer)
            sends = [
                await producer.send(
                    self._settings.topic,
                    value=row.body,
                    key=row.key.encode(),
                    partition=partition_of(row.key.encode(), partitions),
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
            lost = False
            for row, send in zip(rows, sends, strict=True):
                acknowledged = send.result()  # raises the broker's error, if any
                partition, offset = acknowledged.partition, acknowledged.offset
                highest = self._acked.get(partition, (-1, 0))[0]
                lost = lost or offset <= highest
                if offset > highest:
                    self._acked[partition] = message_mark(offset, row.body, acknowledged.timestamp)
            if lost:
                # An offset given again: the broker started a new log since the last batch,
                # and what was published before it is gone (queued again by `_heal`).
                self._log_lost = True
        self._last_published = asyncio.get_running_loop().time()
        OUTBOX_PUBLISHED.inc(len(rows))
        for row in rows:
            OUTBOX_PUBLISH_DELAY.observe(row.waited + self._last_published - taken_at)
        log.debug("outbox.published", count=len(rows))
        return len(rows)

    async def _partitions(self, producer: AIOKafkaProducer) -> int:
        return await spread_over(producer, self._settings)

    async def _heal(self) -> None:
        """When the broker has lost its log (the embedded broker keeps nothing across a
        restart), events already published but not yet consumed are lost with it: the
        whole history is queued again, and consumers skip what they already handled.

        A lost log shows three ways: the topic is empty at the first connection after a
        start or an outage while this service has a history; an offset this relay was
        already given is given again (`publish_batch`); or, looked at every few seconds
        while the relay has nothing to publish, a message the broker acknowledged is no
        longer where it was. Under load the first can miss (another service publishes to
        the new log first); the others cannot."""
        if self._history is None:
            return
        if self._log_lost:
            self._log_lost = False
            await self._requeue_history()
            return
        if not self._healed:
            ends = await end_offsets(self._settings.broker, self._settings.topic)
            empty = bool(ends) and not any(ends.values())
            if (empty and not self._acked) or not await self._acked_still_held(ends):
                await self._requeue_history()
            self._healed = True
            self._log_checked = asyncio.get_running_loop().time()
            return
        # The look is for a relay that has had nothing to publish since the broker may have
        # restarted: one that publishes is told of a new log by the offsets it is given,
        # which start again from 0. Skipped while batches keep being acknowledged, it holds
        # up no event under load (it took 5-33 ms, once 319, while publishing waited).
        now = asyncio.get_running_loop().time()
        idle = now - self._last_published >= LOG_CHECK_SECONDS
        if self._acked and idle and now - self._log_checked >= LOG_CHECK_SECONDS:
            self._log_checked = now
            ends = await end_offsets(self._settings.broker, self._settings.topic)
            if not await self._acked_still_held(ends):
                await self._requeue_history()

    async def _acked_still_held(self, ends: dict[int, int]) -> bool:
        """Whether the broker still holds every message it acknowledged to this relay.

        A partition that ends past the last acknowledged offset holds it (a log that was
        lost starts again from 0; retention never moves the end back). One that seems to
        end at or before it is looked at: the embedded broker reports the start of the
        last record batch as a partition's end, which under load lies before messages it
        holds, so only the message itself, read at its offset and compared by its mark,
        tells a lagging end from a lost log."""
        doubtful = {
            TopicPartition(self._settings.topic, partition): mark
            for partition, mark in self._acked.items()
            if ends.get(partition, 0) <= mark[0]
        }
        if not doubtful:
            return True
        replaced = await messages_replaced(self._settings.broker, doubtful)
        return not replaced

    async def _requeue_history(self) -> None:
        assert self._history is not None
        async with self._sessions() as session, session.begin():
            await session.execute(sa.select(sa.func.pg_advisory_xact_lock(self._lock_key)))
            count = await self._history(session)
        self._acked.clear()
        if count:
            log.warning("outbox.history_requeued", count=count)

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
                    self._settings.broker,
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


async def spread_over(producer: AIOKafkaProducer, settings: ServiceSettings) -> int:
    """How many partitions the events are spread over: the topic's, but never more than
    `topic_partitions` when the service provisions the topic. A broker that lost the topic
    re-creates it with its own default count when any client asks for it first (the
    embedded one makes 4): partitions beyond the configured ones may be unknown to the
    consumers, and an event written there would wait unread."""
    return partitions_in_use(len(await producer.partitions_for(settings.topic)), settings)


def partitions_in_use(known: int, settings: ServiceSettings) -> int:
    """Of the `known` partitions of the topic, how many the events are spread over (see
    `spread_over`): what a consumer looking for a key's partition counts as well."""
    if settings.provision_topics:
        return min(known, settings.topic_partitions)
    return known


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of a key among the first `partitions`: Kafka's default partitioner
    (murmur2), so that a request's events land where any Kafka client would put them."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions
