"""Offsets the broker skipped: a message handed over past one that was never handed over.

Within a partition of the lifecycle topic the offsets run without gaps (it is not
compacted, and no producer writes transactions into it), so a message whose offset lies
past the next one the consumer expects means the broker skipped some. The embedded broker
does, now and then: it moves a partition's end before it stores the batch of messages for
it, and a fetch that comes in between is handed the batches after the one still being
stored (seen once in 44,000 messages with two producers on a partition, and as a request
never routed in a benchmark run: docs/benchmarks/system.md, change 63). Read on, the skipped
messages would be lost to the service: its position has moved past them. So the rest of
the partition's messages are left, and the partition is read again from the first offset
skipped, for up to `PATIENCE_SECONDS` (the broker stores the missing batch within
milliseconds). A gap still there after that is the log's own (a batch the broker never
stored, which its producer publishes again; a compacted topic; a transaction's marker):
read past, with a warning, counted in `mla_consumer_offsets_skipped_total` (alert
`MlaOffsetsSkipped`).

The next offset a member expects is the one after the last message it handled there, or,
in a partition newly assigned to it, the offset its group committed, where its reading
starts (its first fetch there can meet a batch still being stored too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError

from shared.kafka import TRANSIENT_KAFKA_ERRORS
from shared.metrics import CONSUMER_OFFSETS_SKIPPED, CONSUMER_REREADS

log = structlog.get_logger("shared.consumer")

PATIENCE_SECONDS = 1.0


class _Message(Protocol):
    @property
    def offset(self) -> int: ...


P = TypeVar("P")  # a partition (aiokafka's TopicPartition)
M = TypeVar("M", bound=_Message)


class Gaps:
    """The gaps found in each partition and not yet filled."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        # The first offset skipped in a partition, and since when it is missing.
        self._open: dict[object, tuple[int, float]] = {}
        # Where the member's reading of each partition assigned to it starts, until it has
        # handled a message there (None: its group committed nothing there).
        self.starts: dict[object, int | None] = {}

    def start(self, tp: object, offset: int | None) -> None:
        """The member's reading of a newly assigned partition starts at `offset`."""
        self.starts[tp] = offset

    async def up_to_gaps(
        self,
        client: AIOKafkaConsumer,
        fetched: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
        positions: Mapping[TopicPartition, int],
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        """What `client` fetched, up to each partition's first gap (`cut`); each partition
        with a gap is sought back to the first offset skipped, to be fetched again."""
        for tp in fetched.keys() - positions.keys() - self.starts.keys():
            self.start(tp, await _committed(client, tp))
        kept, read_again = self.cut(fetched, positions)
        held = client.assignment()
        for tp, offset in read_again.items():
            if tp in held:
                client.seek(tp, offset)
        return kept

    def forget(self, partitions: Iterable[object]) -> None:
        """These partitions were taken from the member."""
        for tp in partitions:
            self.starts.pop(tp, None)
            self._open.pop(tp, None)

    def cut(
        self, fetched: Mapping[P, Sequence[M]], positions: Mapping[P, int]
    ) -> tuple[dict[P, list[M]], dict[P, int]]:
        """The messages of each partition up to its first gap (`positions`: the next offset
        the member expects in each partition it has handled messages of), and the offset to
        read each partition with a gap from again."""
        kept: dict[P, list[M]] = {}
        read_again: dict[P, int] = {}
        for tp, messages in fetched.items():
            kept[tp] = list(messages)
            expected = positions[tp] if tp in positions else self.starts.get(tp)
            for index, message in enumerate(messages):
                if (
                    expected is not None
                    and message.offset > expected
                    and self._read_again(tp, expected, message.offset)
                ):
                    kept[tp], read_again[tp] = kept[tp][:index], expected
                    break
                gap = self._open.get(tp)
                if gap is not None and message.offset >= gap[0]:
                    del self._open[tp]  # filled: the first offset skipped came
                # A copy of one handled before (an earlier offset) is followed from there.
                expected = message.offset + 1
        return kept, read_again

    def _read_again(self, tp: object, expected: int, found: int) -> bool:
        """Whether to read the partition again from `expected`, which did not come before
        `found`; past the patience, the gap is taken as the log's own."""
        now = self._clock()
        first, since = self._open.get(tp, (None, now))
        if first != expected:
            self._open[tp] = (expected, since := now)
        if now - since < PATIENCE_SECONDS:
            CONSUMER_REREADS.inc()
            return True
        del self._open[tp]
        CONSUMER_OFFSETS_SKIPPED.inc(found - expected)
        log.warning(
            "consumer.offsets_skipped",
            partition=getattr(tp, "partition", tp),
            first=expected,
            count=found - expected,
        )
        return False


async def _committed(client: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """The offset the group committed in the partition (where the member's reading of it
    starts); None when it committed none there, or the broker did not say."""
    try:
        offset = await asyncio.wait_for(client.committed(tp), 5)
    except (*TRANSIENT_KAFKA_ERRORS, IllegalStateError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None
