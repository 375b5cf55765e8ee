"""Where a consumer-group member is in each partition of the topic.

For each partition: the offset to commit next (the one after the last message handled) and
a mark of that message (its offset, and a CRC-32 of its value and timestamp:
`shared.kafka.message_mark`), which tells a broker that still holds the log read so far from
one that lost it (the embedded broker keeps nothing across a restart) and writes a new log
from offset 0.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition

from shared.kafka import record_mark

Mark = tuple[int, int]


class Place:
    def __init__(self) -> None:
        self.positions: dict[TopicPartition, int] = {}
        self._marks: dict[TopicPartition, Mark] = {}
        # The marks taken when the broker stopped answering, to be looked at once it answers
        # again (`EventConsumer._after_outage`).
        self._outage_marks: dict[TopicPartition, Mark] = {}

    def handled(self, tp: TopicPartition, message: ConsumerRecord[bytes, bytes]) -> None:
        self.positions[tp] = message.offset + 1
        self._marks[tp] = record_mark(message)

    def to_commit(
        self, assignment: set[TopicPartition], partitions: set[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        """The offsets to commit, of `partitions` (all when None) among those held.

        Only the partitions this member holds: a rebalance that came while a message was in
        hand leaves the position of a partition now another member's, and a commit naming it
        is refused whole (IllegalStateError), for as long as the position stays."""
        for tp in set(self.positions) - assignment:
            del self.positions[tp]
        return {
            tp: offset
            for tp, offset in self.positions.items()
            if partitions is None or tp in partitions
        }

    def given_up(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            self.positions.pop(tp, None)

    def broker_gone(self) -> None:
        """The broker stopped answering: what was read is looked at again once it answers."""
        self._outage_marks = self._outage_marks or dict(self._marks)

    def joined(self, assigned: set[TopicPartition]) -> bool:
        """A group join: the assigned partitions read before are looked at again (a broker that
        restarted without its log makes the group join again). True when there are any."""
        marks = {tp: mark for tp, mark in self._marks.items() if tp in assigned}
        self._outage_marks = {**marks, **self._outage_marks}
        return bool(self._outage_marks)

    def marks(self, partitions: set[TopicPartition]) -> dict[TopicPartition, Mark]:
        """The marks of the last message handled in each of these partitions, where any."""
        return {tp: self._marks[tp] for tp in partitions if tp in self._marks}

    def doubt(self, marks: dict[TopicPartition, Mark]) -> None:
        """These marks are to be looked at, with those an outage left."""
        self._outage_marks = {**marks, **self._outage_marks}

    @property
    def in_doubt(self) -> bool:
        return bool(self._outage_marks)

    def take_doubts(self) -> dict[TopicPartition, Mark]:
        marks, self._outage_marks = self._outage_marks, {}
        return marks

    def doubt_again(self, marks: dict[TopicPartition, Mark]) -> None:
        self._outage_marks = marks

    def restart(self, tp: TopicPartition, *, held: bool) -> None:
        """The partition's log was replaced: read again from its beginning when held.

        The commit that showed the broker back wrote this member's old position into the new
        log's group: replaced by the beginning, or the next owner of the partition would
        resume there and skip what lies before."""
        self._marks.pop(tp, None)
        self.positions.pop(tp, None)
        if held:
            self.positions[tp] = 0
