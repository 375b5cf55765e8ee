"""Handling a consumed message once in effect, whatever the broker redelivers.

1. Parse the envelope and, for an event of a kind the service acts on (its `Interest`),
   validate the payload against the catalogue; the payload of any other kind is not read
   (intake's own `received`, the largest event, is passed over by intake unread). A message
   that cannot be parsed or validated, or whose type the catalogue does not know, is a
   *poison message*: it goes to the dead-letter topic with the reason in its headers, and
   the loop moves on.
2. In one database transaction, record the event's `source#id` in `processed_events` and
   run the handler. A key already recorded means a redelivery: nothing is done again.
   The messages that arrived together, from any of its partitions, share that transaction
   (up to `consumer_batch_size`), and the handler is given their new events at once (a
   `BatchHandler`, shared/event_handlers.py; `one_by_one` makes one of a handler of single
   events): under load, one commit, and one statement per table for many events.
   Should anything in it fail, none of it was committed, and its messages are taken again
   one at a time, each in its own transaction, with the retries and dead letters below.

Infrastructure errors (database or broker unreachable) are retried with backoff for as long
as it takes: an outage delays work, never drops it; so are the conflicts of concurrent
transactions (a concurrent append, a deadlock). Any other error of a handler is retried
a few times, then the message is dead-lettered with the error as its reason.

The loop around it, its positions and offsets, is shared/consumer.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.db import driver, is_transient, quoted
from shared.dead_letters import DeadLetters, Wait
from shared.event_handlers import BatchHandler, Interest
from shared.events.catalogue import Payload, payload_kind, read_payload
from shared.events.envelope import CloudEvent, EnvelopeError
from shared.eventstore import lost_to_a_concurrent_write, wrote_outbox
from shared.metrics import CONSUMER_RETRIES, EVENT_AGE, EVENTS_CONSUMED
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.consumer")

DUP = "duplicate"  # the outcome of a message handled before
# A message's event and its payload; None: of a kind the service passes over, left unread.
Parsed = tuple[CloudEvent, Payload | None]


class MessageHandling:
    """How one consumer-group member handles what it consumed: in its own database, once."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        processed: sa.Table,
        handler: BatchHandler,
        interest: Interest,
        settings: ServiceSettings,
        dead_letters: DeadLetters,
        wait: Wait,
        on_commit: Callable[[], None] | None,
    ) -> None:
        self._sessions = sessions
        # The keys of a batch in one statement, the same text whatever its size (prepared
        # once per connection), on the driver's connection (shared.db.driver).
        self._record = (
            f"INSERT INTO {quoted(processed)} (event_key, type) "
            "SELECT * FROM unnest($1::varchar[], $2::varchar[]) "
            "ON CONFLICT DO NOTHING RETURNING event_key"
        )
        self._handler = handler
        self._interest = interest
        self._settings = settings
        self._dead_letters = dead_letters
        # Between attempts; it ends early, raising, when the consumer stops.
        self._wait = wait
        self._on_commit = on_commit

    def parsed_all(self, messages: list[ConsumerRecord[bytes, bytes]]) -> list[Parsed] | None:
        """Each message's event and payload (`parse`); None when one is poison (taken one at
        a time, it goes to the dead-letter topic in its turn)."""
        try:
            return [self.parse(message) for message in messages]
        except EnvelopeError:
            return None

    def parse(self, message: ConsumerRecord[bytes, bytes]) -> Parsed:
        """The message's event and its payload checked against the catalogue, or None for
        the payload of an event the service has nothing to do with (not read: the service
        passes it over). EnvelopeError when the message is not an event of the catalogue."""
        event = CloudEvent.from_bytes(message.value)
        if not self._interest(payload_kind(event.type)):
            return event, None
        return event, read_payload(event)

    async def together(self, parsed: list[Parsed]) -> list[str] | None:
        """Record and handle every event in one transaction; the outcome of each, or None
        (nothing committed) when any of it failed: the caller then takes them one at a time.
        Events the service has nothing to do with are passed over, and a batch of only those
        takes no transaction."""
        wanted = [payload is not None for _, payload in parsed]
        outcomes = []
        published = False
        try:
            if any(wanted):
                async with self._sessions() as session, session.begin():
                    mine = [event for (event, _), want in zip(parsed, wanted, strict=True) if want]
                    new = await self._record_all(session, mine)
                    fresh = []
                    for (event, payload), want in zip(parsed, wanted, strict=True):
                        if not want:
                            outcomes.append("ignored")
                        elif event.dedup_key not in new:
                            outcomes.append(DUP)
                        else:
                            # A second copy in the batch is a duplicate.
                            new.discard(event.dedup_key)
                            assert payload is not None  # wanted
                            fresh.append((event, payload))
                            outcomes.append("handled")
                    if fresh:
                        await self._handler(session, fresh)
                    published = wrote_outbox(session)
            else:
                outcomes = ["ignored"] * len(parsed)
        except Exception as exc:
            log.info("consumer.batch_taken_one_by_one", size=len(parsed), error=type(exc).__name__)
            return None
        for (event, _), outcome in zip(parsed, outcomes, strict=True):
            self.counted(event, outcome)
        if self._on_commit is not None and published:
            self._on_commit()
        return outcomes

    async def _record_all(self, session: AsyncSession, events: list[CloudEvent]) -> set[str]:
        """Record the events' keys, in one statement; those that were not recorded before."""
        recorded = await (await driver(session)).fetch(
            self._record,
            [event.dedup_key for event in events],
            [event.type for event in events],
        )
        return {row[0] for row in recorded}

    def counted(self, event: CloudEvent, outcome: str) -> None:
        """Count the outcome of an event into the metrics (`count_outcome`)."""
        count_outcome(event, outcome)

    async def one(self, message: ConsumerRecord[bytes, bytes]) -> str:
        """Handle one message in a transaction of its own, with the retries and the dead
        letter above; its outcome."""
        try:
            event, payload = self.parse(message)
        except EnvelopeError as exc:
            await self._dead_letters.send(message, reason=str(exc), error=type(exc).__name__)
            return "dead-lettered"
        if payload is None:
            self.counted(event, "ignored")
            return "ignored"
        structlog.contextvars.bind_contextvars(
            event_id=event.id, causation_id=event.causationid, correlation_id=event.correlationid
        )
        try:
            return await self._handle(message, event, payload)
        finally:
            structlog.contextvars.unbind_contextvars("event_id", "causation_id", "correlation_id")

    async def _handle(
        self, message: ConsumerRecord[bytes, bytes], event: CloudEvent, payload: Payload
    ) -> str:
        backoff = Backoff(self._settings.retry_initial_seconds, self._settings.retry_max_seconds)
        failures = 0
        while True:
            try:
                outcome = await self._handle_once(event, payload)
                self.counted(event, outcome)
                return outcome
            except Exception as exc:
                if is_transient(exc):
                    reason = "infrastructure"
                elif lost_to_a_concurrent_write(exc):
                    # A concurrent write, or a deadlock PostgreSQL broke by aborting this
                    # transaction: decided again, never taken for a fault of the handler
                    # (dead-lettered after a few, it would be lost to the service).
                    reason = "conflict"
                else:
                    failures += 1
                    reason = "handler"
                    log.exception("consumer.handler_failed", type=event.type, attempt=failures)
                    if failures >= self._settings.handler_max_attempts:
                        await self._dead_letters.send(
                            message,
                            reason=f"handler failed {failures} times: {exc!r}"[:1000],
                            error=type(exc).__name__,
                        )
                        return "dead-lettered"
                CONSUMER_RETRIES.labels(reason).inc()
                await self._wait(backoff.next_delay(), type(exc).__name__)

    async def _handle_once(self, event: CloudEvent, payload: Payload) -> str:
        async with self._sessions() as session, session.begin():
            if not await self._record_all(session, [event]):
                return DUP
            await self._handler(session, [(event, payload)])
            published = wrote_outbox(session)
        if self._on_commit is not None and published:
            self._on_commit()
        return "handled"


def count_outcome(event: CloudEvent, outcome: str) -> None:
    """Count the outcome of an event into the metrics (once what was done with it is
    committed), and the age of an event handled."""
    EVENTS_CONSUMED.labels(event.type, outcome).inc()
    if outcome == "handled":
        # A time without an offset (RFC 3339 asks for one; the envelope lets it pass) is
        # taken as UTC, as every service writes it, rather than failing what committed.
        at = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
        age = (datetime.now(UTC) - at).total_seconds()
        EVENT_AGE.labels(event.type).observe(max(age, 0.0))
