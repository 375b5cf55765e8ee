"""Offsets the broker skipped: a message handed over past one that was never handed over.

Within a partition of the lifecycle topic the offsets run without gaps (it is not
compacted, and no producer writes transactions into it), so a message whose offset lies
past the next one the consumer expects means the broker skipped some. The embedded broker
does, now and then: it moves a partition's end before it stores the batch of messages for
it, and a fetch that comes in between is handed the batches after the one still being
stored (seen once in 44,000 messages with two producers on a partition, and as a request
never routed in a benchmark run: docs/benchmarks/system.md, change 63). Read on, the skipped
messages would be lost to the service. So the partition is read again from the first offset
skipped instead:

- at once, for `PATIENCE_SECONDS`: the broker stores the missing batch within milliseconds;
- then once from up to `LOOK_BACK` offsets before it: a broker asked for an offset inside a
  batch may hand over only the batches after that one (the embedded broker does), while
  asked for an earlier one it hands over the whole batch; what was handled already comes
  again as a copy and is skipped (shared/message_handling.py);
- a gap still there after that is the log's own (a compacted topic, a transaction's
  marker): read on, with a warning.

The first message of a partition after it was assigned is taken as it comes: the member
has no position there to compare it with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import structlog

from shared.metrics import CONSUMER_REREADS

log = structlog.get_logger("shared.consumer")

PATIENCE_SECONDS = 1.0
LOOK_BACK = 200


class _Message(Protocol):
    @property
    def offset(self) -> int: ...


P = TypeVar("P")  # a partition (aiokafka's TopicPartition)
M = TypeVar("M", bound=_Message)


@dataclass
class _Gap:
    at: int  # the first offset skipped
    since: float
    looked_back: bool = False


class Gaps:
    """The gaps found in each partition and not yet filled."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._open: dict[object, _Gap] = {}

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
            expected = positions.get(tp)
            for index, message in enumerate(messages):
                if expected is not None and message.offset > expected:
                    offset = self._read_again_from(tp, expected, message.offset)
                    if offset is not None:
                        kept[tp], read_again[tp] = kept[tp][:index], offset
                        break
                gap = self._open.get(tp)
                if gap is not None and message.offset >= gap.at:
                    del self._open[tp]  # filled: the first offset skipped came
                # A copy of one handled before (an earlier offset) is followed from there.
                expected = message.offset + 1
        return kept, read_again

    def _read_again_from(self, tp: object, expected: int, found: int) -> int | None:
        now = self._clock()
        gap = self._open.get(tp)
        if gap is None or gap.at != expected:
            self._open[tp] = gap = _Gap(expected, now)
        if now - gap.since < PATIENCE_SECONDS:
            CONSUMER_REREADS.labels("skipped").inc()
            return expected
        if not gap.looked_back:
            gap.looked_back = True
            CONSUMER_REREADS.labels("looked_back").inc()
            return max(expected - LOOK_BACK, 0)
        del self._open[tp]
        log.warning(
            "consumer.offsets_skipped",
            partition=getattr(tp, "partition", tp),
            first=expected,
            count=found - expected,
        )
        return None
