"""A consumer handed messages past offsets the broker skipped reads them again, not past them."""

from __future__ import annotations

from dataclasses import dataclass

from shared.consumer_gaps import PATIENCE_SECONDS, Gaps
from shared.metrics import CONSUMER_OFFSETS_SKIPPED


@dataclass(frozen=True)
class Message:
    offset: int


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def messages(*offsets: int) -> list[Message]:
    return [Message(offset) for offset in offsets]


def test_messages_that_follow_on_from_the_position_are_all_kept() -> None:
    kept, read_again = Gaps(Clock()).cut({"p0": messages(5, 6, 7)}, {"p0": 5})
    assert kept == {"p0": messages(5, 6, 7)} and read_again == {}


def test_what_lies_past_a_skipped_offset_is_left_and_read_again_from_it() -> None:
    gaps = Gaps(Clock())
    # 7 and 8 never came: the broker handed over the batch after theirs.
    kept, read_again = gaps.cut({"p0": messages(5, 6, 9, 10), "p1": messages(3)}, {"p0": 5})
    assert kept == {"p0": messages(5, 6), "p1": messages(3)}
    assert read_again == {"p0": 7}
    # Read again, they come: nothing is left.
    kept, read_again = gaps.cut({"p0": messages(7, 8, 9, 10)}, {"p0": 7})
    assert kept == {"p0": messages(7, 8, 9, 10)} and read_again == {}


def test_a_gap_at_the_start_of_a_fetch_is_told_from_the_position() -> None:
    kept, read_again = Gaps(Clock()).cut({"p0": messages(12, 13)}, {"p0": 10})
    assert kept == {"p0": []} and read_again == {"p0": 10}


def test_copies_of_what_was_handled_and_a_partition_never_handled_are_taken_as_they_come() -> None:
    kept, read_again = Gaps(Clock()).cut({"p0": messages(2, 3, 4), "p1": messages(40)}, {"p0": 5})
    assert kept == {"p0": messages(2, 3, 4), "p1": messages(40)} and read_again == {}


def test_a_gap_that_stays_past_the_patience_is_the_logs_own_and_read_past() -> None:
    clock = Clock()
    gaps = Gaps(clock)
    assert gaps.cut({"p0": messages(500)}, {"p0": 300})[1] == {"p0": 300}
    clock.now += PATIENCE_SECONDS / 2
    assert gaps.cut({"p0": messages(500)}, {"p0": 300})[1] == {"p0": 300}
    clock.now += PATIENCE_SECONDS
    skipped = CONSUMER_OFFSETS_SKIPPED._value.get()
    kept, read_again = gaps.cut({"p0": messages(500, 501)}, {"p0": 300})
    assert kept == {"p0": messages(500, 501)} and read_again == {}
    # Counted for the operator (alert MlaOffsetsSkipped): offsets 300 to 499.
    assert CONSUMER_OFFSETS_SKIPPED._value.get() - skipped == 200
    # Another gap later on is waited for afresh.
    assert gaps.cut({"p0": messages(505)}, {"p0": 502})[1] == {"p0": 502}


def test_a_partition_newly_assigned_is_compared_with_where_its_group_committed() -> None:
    gaps = Gaps(Clock())
    # The member before stopped inside a batch; the broker handed over the batch after it.
    gaps.start("p0", 42)
    gaps.start("p1", None)  # nothing committed there: taken as it comes
    kept, read_again = gaps.cut({"p0": messages(45, 46), "p1": messages(7)}, {})
    assert kept == {"p0": [], "p1": messages(7)} and read_again == {"p0": 42}
    # Once handled there, the member's own position is what counts.
    assert gaps.cut({"p0": messages(43)}, {"p0": 43})[1] == {}
    # Taken from the member, the partition is forgotten with the gap it had.
    gaps.forget(["p0"])
    assert "p0" not in gaps.starts and gaps.cut({"p0": messages(99)}, {})[1] == {}
