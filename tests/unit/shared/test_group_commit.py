"""Calls that arrive while a batch is being written are written together, each answered
with its own result once its batch is written."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from prometheus_client import REGISTRY

from shared.group_commit import GroupCommit


class Writer:
    """Writes batches of numbers (doubling each), holding each batch until released."""

    def __init__(self, *, refuse: set[int] | None = None, hold: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.refuse = refuse or set()
        self.released = asyncio.Event()
        if not hold:
            self.released.set()

    async def __call__(self, calls: Sequence[int]) -> list[int]:
        self.batches.append(list(calls))
        await self.released.wait()
        if refused := self.refuse & set(calls):
            raise ValueError(f"refused {sorted(refused)}")
        return [call * 2 for call in calls]


async def started(group: GroupCommit[int, int], *calls: int) -> list[asyncio.Task[int]]:
    tasks = [asyncio.create_task(group(call)) for call in calls]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return tasks


async def test_a_lone_call_is_written_at_once_and_answered() -> None:
    writer = Writer(hold=False)
    group = GroupCommit("test", writer)

    assert await group(21) == 42
    assert writer.batches == [[21]]


async def test_calls_arriving_while_a_batch_is_written_go_together_in_the_next() -> None:
    writer = Writer()
    group = GroupCommit("test", writer)
    first = await started(group, 1)
    assert writer.batches == [[1]]

    waiting = await started(group, 2, 3, 4)
    assert writer.batches == [[1]], "nothing more is written while the first batch is"
    writer.released.set()

    assert await asyncio.gather(*first, *waiting) == [2, 4, 6, 8]
    assert writer.batches == [[1], [2, 3, 4]]


async def test_a_batch_holds_at_most_its_limit_in_the_order_the_calls_came() -> None:
    writer = Writer()
    group = GroupCommit("test", writer, max_batch=2)
    tasks = await started(group, 1)
    tasks += await started(group, 2, 3, 4, 5, 6)
    writer.released.set()

    assert await asyncio.gather(*tasks) == [2, 4, 6, 8, 10, 12]
    assert writer.batches == [[1], [2, 3], [4, 5], [6]]


async def test_a_failed_batch_is_written_again_call_by_call_and_fails_only_its_culprit() -> None:
    writer = Writer(refuse={3})
    group = GroupCommit("test", writer)
    tasks = await started(group, 1)
    tasks += await started(group, 2, 3, 4)
    writer.released.set()

    answers = await asyncio.gather(*tasks, return_exceptions=True)

    assert answers[:2] == [2, 4] and answers[3] == 8
    assert isinstance(answers[2], ValueError) and "refused [3]" in str(answers[2])
    assert writer.batches == [[1], [2, 3, 4], [2], [3], [4]]


async def test_a_caller_that_goes_away_leaves_the_others_batch_written() -> None:
    writer = Writer()
    group = GroupCommit("test", writer)
    tasks = await started(group, 1, 2, 3)
    tasks[0].cancel()  # its client hung up while the batch was written
    await asyncio.sleep(0)
    writer.released.set()

    assert await asyncio.gather(*tasks[1:]) == [4, 6]
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    assert writer.batches == [[1, 2, 3]], "its call was written all the same"


async def test_a_writer_answering_fewer_calls_than_it_was_given_fails_the_batch() -> None:
    released = asyncio.Event()

    async def short(calls: Sequence[int]) -> list[int]:
        await released.wait()
        return [0]

    group: GroupCommit[int, int] = GroupCommit("test", short)
    tasks = await started(group, 1)
    tasks += await started(group, 2, 3)
    released.set()

    answers = await asyncio.gather(*tasks, return_exceptions=True)

    assert answers[0] == 0
    for answer in answers[1:]:
        assert isinstance(answer, RuntimeError)
        assert "a batch of 2 calls had 1 answers" in str(answer)


async def test_with_two_writers_a_call_finding_one_busy_is_written_at_once_by_the_other() -> None:
    writer = Writer()
    group = GroupCommit("test", writer, writers=2)
    tasks = await started(group, 1)
    tasks += await started(group, 2)
    assert writer.batches == [[1], [2]]

    tasks += await started(group, 3, 4)
    assert writer.batches == [[1], [2]], "both busy: the calls wait for the next batch"
    writer.released.set()

    assert await asyncio.gather(*tasks) == [2, 4, 6, 8]
    assert writer.batches == [[1], [2], [3, 4]]


async def test_the_operators_see_how_many_calls_each_batch_held() -> None:
    def sample(name: str) -> float:
        return (
            REGISTRY.get_sample_value(f"mla_group_commit_calls_per_batch_{name}", {"work": "seen"})
            or 0.0
        )

    count, total = sample("count"), sample("sum")
    writer = Writer()
    group = GroupCommit("seen", writer)
    tasks = await started(group, 1)
    tasks += await started(group, 2, 3, 4)
    writer.released.set()
    await asyncio.gather(*tasks)

    assert (sample("count") - count, sample("sum") - total) == (2, 4)


async def test_a_call_arriving_just_as_the_writer_finishes_is_written_all_the_same() -> None:
    # The caller below wakes after the writer's last look at the calls waiting and before
    # its task is done: it must not count that writer as busy and wait for ever.
    ending = asyncio.Event()

    async def write(calls: Sequence[int]) -> list[int]:
        ending.set()
        return [call * 2 for call in calls]

    group: GroupCommit[int, int] = GroupCommit("test", write)

    async def late() -> int:
        await ending.wait()
        ending.clear()
        return await group(2)

    latecomer = asyncio.create_task(late())
    assert await group(1) == 2
    assert await asyncio.wait_for(latecomer, 2) == 4


async def test_a_failure_that_is_every_calls_fails_the_batch_at_once() -> None:
    # The database down: trying each call again alone would only make the last wait longest.
    writer = Writer(refuse={1, 2, 3, 4})
    group = GroupCommit("test", writer, everyones=lambda exc: "refused" in str(exc))
    tasks = await started(group, 1)
    tasks += await started(group, 2, 3, 4)
    writer.released.set()

    answers = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(answer, ValueError) for answer in answers)
    assert writer.batches == [[1], [2, 3, 4]], "no call written again alone"
