"""The consumer loop: every event handled once in effect, whatever the broker redelivers.

For each message, in partition order:

1. Handle it once in effect (shared/message_handling.py): a poison message dead-lettered;
   the messages that arrived together recorded in `processed_events` and handled in one
   transaction (one at a time, with retries, should that fail); a redelivery does nothing.
2. Only after that transaction commits does the offset become eligible for commit; offsets
   are committed every `consumer_commit_interval_ms` (what a crash leaves uncommitted is
   delivered again and skipped), before a rebalance takes partitions away, and at stop,
   for the partitions this member holds then (a batch in hand when a rebalance gave its
   partition to another member is left to that member, from the offset committed then).
3. The log read is looked at again when the broker may have lost it (the embedded one
   keeps nothing across a restart): after an outage, after a group join, and when copies
   of what was handled arrive; a partition whose log is new is read again from its start.
4. A consumer no request waits on (notify's, `consumer_gather_ms`) pauses its partitions
   for a while after a turn that found less than a full batch, and takes what arrived
   meanwhile at once: one fetch and one transaction instead of one for every event or two.
5. Messages handed over past offsets the broker skipped are left, and the partition read
   again from the first one skipped (shared/consumer_gaps.py).
6. A command decided on what the consumer keeps of other services' facts can wait for it
   to have handled what the topic held when the command came (`caught_up`,
   shared/consumer_catch_up.py): a fact its caller has seen elsewhere is then known here too.

An outage of the database or the broker delays work, never drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import sqlalchemy as sa
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.consumer_catch_up import caught_up
from shared.consumer_gaps import Gaps
from shared.consumer_place import Mark, Place
from shared.dead_letters import DeadLetters
from shared.event_handlers import BatchHandler, Interest, everything
from shared.kafka import TRANSIENT_KAFKA_ERRORS, messages_replaced
from shared.message_handling import DUP, MessageHandling
from shared.metrics import CONSUMER_LAG
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.consumer")

# How often at most `_look_again` looks at a partition in which messages came again.
LOOK_AGAIN_SECONDS = 5.0
# The most messages a turn of the loop takes; a turn that takes fewer found all there was.
TURN = 200


class _Stopping(Exception):
    """Raised inside a retry when the loop was asked to stop: the offset is not advanced."""


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Commit what is done before another member takes these partitions over.
        await self._owner.commit_offsets(set(revoked))
        self._owner.place.given_up(set(revoked))
        self._owner.gaps.forget(revoked)
        for tp in revoked:  # another member's to report now
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(str(tp.partition))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("consumer.assigned", partitions=sorted(tp.partition for tp in assigned))
        # A broker that restarted without its log makes the group join again: whether it
        # did is checked here, before anything is fetched from the stale positions (an
        # outage shorter than the loop's turn fails no commit).
        await self._owner.check_log_after_join(assigned)


class EventConsumer:
    """Consumes the lifecycle topic for one service (one consumer-group member)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        processed: sa.Table,
        handler: BatchHandler,
        settings: ServiceSettings,
        interest: Interest = everything,
        group_id: str,
        # Called after a transaction that put events on the outbox commits (the relay's
        # wake-up call).
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._group_id = group_id
        self._consumer: AIOKafkaConsumer | None = None
        self._dead_letters = DeadLetters(settings, group_id, self._wait)
        self.handling = MessageHandling(
            sessions=sessions,
            processed=processed,
            handler=handler,
            interest=interest,
            settings=settings,
            dead_letters=self._dead_letters,
            wait=self._wait,
            on_commit=on_commit,
        )
        self._stopping = asyncio.Event()
        self.place = Place()
        self._in_hand = False  # messages returned by the client are being handled
        self._looked: dict[TopicPartition, float] = {}  # when `_look_again` last looked at each
        self.gaps = Gaps(time.monotonic)

    def stop(self) -> None:
        """Finish the message in hand, commit offsets and return from `run()`."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until `stop()`."""
        try:
            self._consumer = await self._start_consumer()
        except _Stopping:
            return
        clock = asyncio.get_running_loop().time
        every = self._settings.consumer_commit_interval_ms / 1000
        last_commit = clock()
        # The periodic offset commit runs beside the loop: awaited in it, a commit held every
        # message that arrived meanwhile (2 ms usually, up to 20 under load, once a second).
        committing: asyncio.Task[bool] | None = None
        try:
            while not self._stopping.is_set():
                fetched = await self._consumer.getmany(timeout_ms=500, max_records=TURN)
                # What lies past offsets the broker skipped is left, and read again after
                # them (shared/consumer_gaps.py).
                batches = await self.gaps.up_to_gaps(self._consumer, fetched, self.place.positions)
                # Every partition's messages of the fetch in one stream, each partition's in
                # its order: a transaction takes what arrived together whatever partitions
                # it came from. (At 100 requests/s a fetch brings a message or two from each
                # of several partitions; a transaction per partition was one per event.)
                arrived = [(tp, each) for tp, messages in batches.items() for each in messages]
                size = self._settings.consumer_batch_size
                self._in_hand = bool(arrived)
                for start in range(0, len(arrived), size):
                    chunk = arrived[start : start + size]
                    before = self.place.marks({tp for tp, _ in chunk})
                    repeated = await self._process_together(chunk)
                    if repeated:
                        await self._look_again(repeated, before)
                self._in_hand = False
                if self._settings.consumer_gather_ms and len(arrived) < TURN:
                    await self._gather(self._settings.consumer_gather_ms / 1000)
                if committing is not None and committing.done():
                    # A broker that answers again after an outage: its log is looked at here,
                    # between batches, since what is found moves this consumer's positions.
                    if committing.result() and self.place.in_doubt:
                        await self._after_outage()
                    committing = None
                if committing is not None or clock() - last_commit < every:
                    continue
                last_commit = clock()
                self._report_lag()
                committing = asyncio.create_task(self.commit_offsets())
        except _Stopping:
            pass
        finally:
            if committing is not None:
                with contextlib.suppress(Exception):
                    await committing
            await self.commit_offsets()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._consumer.stop(), 10)
            await self._dead_letters.close()

    async def caught_up(self, key: str, within: float) -> bool:
        """Whether the group has handled every message of `key`'s partition that the topic
        held when asked, waiting up to `within` seconds (shared/consumer_catch_up.py)."""
        if self._consumer is None:
            return False
        return await caught_up(
            self._consumer,
            self._settings,
            self.place,
            key=key,
            within=within,
            in_hand=lambda: self._in_hand,
            stopping=self._stopping,
        )

    async def _gather(self, seconds: float) -> None:
        """Fetch nothing for `seconds` (or until `stop()`): the partitions are paused, so
        the client does not fetch each as its next event arrives, and the next turn takes
        all that arrived meanwhile, from one fetch, in one transaction."""
        assert self._consumer is not None
        held = self._consumer.assignment()
        self._consumer.pause(*held)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)
        finally:
            # A rebalance meanwhile may have taken some away; those it gave are not paused.
            self._consumer.resume(*(tp for tp in held if tp in self._consumer.assignment()))

    def _report_lag(self) -> None:
        """What is left to handle in each partition held, as far as the client knows the
        partition's end (`mla_consumer_lag_messages`)."""
        assert self._consumer is not None
        held = self._consumer.assignment()
        for tp, position in self.place.positions.items():
            if tp not in held:
                continue  # a rebalance took it since: the client knows nothing of it
            end = self._consumer.highwater(tp)
            if end is not None:
                CONSUMER_LAG.labels(str(tp.partition)).set(max(end - position, 0))

    async def commit_offsets(self, partitions: set[TopicPartition] | None = None) -> bool:
        """Commit the next offset of every handled message (offset + 1); False when the
        broker did not take the commit."""
        if self._consumer is None:
            return False
        offsets = self.place.to_commit(self._consumer.assignment(), partitions)
        if not offsets:
            return True
        try:
            # Bounded: with the coordinator gone a commit can wait for ever, and an uncommitted
            # offset costs only a redelivery that changes nothing.
            await asyncio.wait_for(self._consumer.commit(offsets), 10)
            return True
        except TRANSIENT_KAFKA_ERRORS as exc:  # TimeoutError among them
            # Not fatal: the events are recorded as processed, a redelivery changes nothing.
            log.warning("consumer.commit_failed", error=type(exc).__name__)
            self.place.broker_gone()
            return False

    async def check_log_after_join(self, assigned: set[TopicPartition]) -> None:
        if self.place.joined(assigned):
            await self._after_outage(commit=False)

    async def _after_outage(self, *, commit: bool = True) -> None:
        """The broker answers again: is its log still the one read before? A broker that
        lost it (the embedded one keeps nothing across a restart) writes a new log from
        offset 0, and this consumer's positions in the old one would skip the new log's
        first messages: those partitions are read again from their beginning (what was
        handled already is skipped by `processed_events`)."""
        if self._consumer is None:
            return  # the first join, before anything was handled
        marks = self.place.take_doubts()
        try:
            replaced = await messages_replaced(self._settings.broker, marks)
        except TRANSIENT_KAFKA_ERRORS:
            self.place.doubt_again(marks)  # not yet: asked again after the next commit
            return
        owned = self._consumer.assignment()
        for tp in replaced:
            if tp in owned:
                await self._consumer.seek_to_beginning(tp)
            self.place.restart(tp, held=tp in owned)
        if replaced and commit:
            await self.commit_offsets()
            log.warning("consumer.log_replaced", partitions=sorted(tp.partition for tp in replaced))

    async def _start_consumer(self) -> AIOKafkaConsumer:
        backoff = Backoff(self._settings.retry_initial_seconds, self._settings.retry_max_seconds)
        while True:
            consumer = AIOKafkaConsumer(
                **self._settings.broker.client_options(),
                group_id=self._group_id,
                client_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_interval_ms=300_000,
                rebalance_timeout_ms=self._settings.consumer_rebalance_timeout_ms,
                session_timeout_ms=self._settings.consumer_session_timeout_ms,
                heartbeat_interval_ms=self._settings.consumer_heartbeat_ms,
                metadata_max_age_ms=self._settings.consumer_metadata_max_age_ms,
                fetch_max_wait_ms=self._settings.consumer_fetch_max_wait_ms,
                fetch_max_bytes=self._settings.consumer_fetch_max_bytes,
                # Kafka bounds each partition's share by this; the embedded broker ignores
                # it and fills each partition's share up to the whole fetch's limit.
                max_partition_fetch_bytes=self._settings.consumer_fetch_max_bytes,
            )
            consumer.subscribe([self._settings.topic], listener=_Rebalance(self))
            try:
                await consumer.start()
                return consumer
            except TRANSIENT_KAFKA_ERRORS as exc:
                await consumer.stop()
                await self._wait(backoff.next_delay(), reason=type(exc).__name__)

    async def _process_together(
        self, arrived: list[tuple[TopicPartition, ConsumerRecord[bytes, bytes]]]
    ) -> set[TopicPartition]:
        """Messages, each partition's in its order: in one transaction when they are several
        and all handled without an error, else one at a time. The messages of a partition a
        rebalance gave to another member meanwhile are left: they are its to handle, from
        the offset committed then. Returns the partitions a message handled before came in."""
        assert self._consumer is not None
        assignment = self._consumer.assignment()
        mine = [(tp, message) for tp, message in arrived if tp in assignment]
        several = len(mine) > 1
        parsed = self.handling.parsed_all([message for _, message in mine]) if several else None
        outcomes = await self.handling.together(parsed) if parsed is not None else None
        if outcomes is not None:
            for tp, message in mine:  # in order: each partition's last one stays
                self.place.handled(tp, message)
            return {tp for (tp, _), outcome in zip(mine, outcomes, strict=True) if outcome == DUP}
        repeated = set()
        for tp, message in mine:
            if tp not in self._consumer.assignment():
                continue
            if await self.handling.one(message) == DUP:
                repeated.add(tp)
            self.place.handled(tp, message)
        return repeated

    async def _look_again(
        self, repeated: set[TopicPartition], before: dict[TopicPartition, Mark]
    ) -> None:
        """Messages handled before came again: a redelivery, or a broker that lost its log
        and to which the relays publish their history again. A restart too brief for this
        consumer to notice (no offset commit failed, no group join followed) leaves it
        reading the new log from its old position, past whatever the new log holds before
        it (a relay's next event can reach the new log ahead of its history): the message
        read last before these is looked for where it was, and where it is not, the
        partition is read again from its beginning (`_after_outage`). At most once a
        partition every `LOOK_AGAIN_SECONDS`: a history published again comes as many
        batches of copies."""
        now = asyncio.get_running_loop().time()
        due = now - LOOK_AGAIN_SECONDS
        doubts = {
            tp: before[tp] for tp in repeated if tp in before and self._looked.get(tp, due) <= due
        }
        if not doubts:
            return
        self._looked.update(dict.fromkeys(doubts, now))
        self.place.doubt(doubts)
        await self._after_outage()

    async def _wait(self, delay: float, reason: str) -> None:
        """Wait between attempts; raises `_Stopping` when the consumer is asked to stop."""
        log.warning("consumer.retrying", reason=reason, delay=round(delay, 2))
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            return
        raise _Stopping
