"""A consumer handed messages past offsets the broker skipped reads them again, not past them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared import consumer_gaps
from shared.consumer_gaps import LOOK_BACK, PATIENCE_SECONDS, Gaps


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


def test_a_gap_that_stays_is_looked_for_from_further_back_once_then_read_past() -> None:
    clock = Clock()
    gaps = Gaps(clock)
    assert gaps.cut({"p0": messages(500)}, {"p0": 300})[1] == {"p0": 300}
    clock.now += PATIENCE_SECONDS / 2
    assert gaps.cut({"p0": messages(500)}, {"p0": 300})[1] == {"p0": 300}
    clock.now += PATIENCE_SECONDS
    # A broker asked for an offset inside a batch may hand over the batches after it only.
    assert gaps.cut({"p0": messages(500)}, {"p0": 300})[1] == {"p0": 300 - LOOK_BACK}
    # Handled again from there (copies), up to the same gap: the log's own, read past.
    kept, read_again = gaps.cut({"p0": messages(*range(100, 300), 500)}, {"p0": 300})
    assert kept == {"p0": messages(*range(100, 300), 500)} and read_again == {}


def test_looking_back_never_asks_for_an_offset_before_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consumer_gaps, "PATIENCE_SECONDS", 0.0)
    assert Gaps(Clock()).cut({"p0": messages(9)}, {"p0": 4})[1] == {"p0": 0}
