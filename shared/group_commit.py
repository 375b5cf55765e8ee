"""Calls that arrive while the database is busy with earlier ones, written together.

A service under load answers many callers at once, each with work of the same shape (a
submission: a number, then an append). Done one by one, every call pays its own round trips
and its own commit, and the database and the service spend their time on those rather than
on the work. `GroupCommit` gathers the calls that arrive while a batch is being written and
writes them as the next batch, in one pass of the same statements; each caller still waits
for its own answer, given only once its batch is committed. A lone call is a batch of one
and waits for nothing, so an idle service answers as fast as before.

A batch that fails is written again one call at a time, so that one call the database
refuses fails only that call, with its own error; unless the failure is every call's (the
database down, say: `everyones`), which each call of the batch gets at once, instead of
waiting for the others to fail one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

from shared.metrics import CALLS_PER_BATCH

log = structlog.get_logger("shared.group_commit")

T = TypeVar("T")
R = TypeVar("R")

# What a batch writer returns: for each call in the batch, in order, its answer.
Write = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    """`await group(call)` gives the call's answer once the batch it went out in is
    written by `write`. At most `writers` batches are written at once, each of at most
    `max_batch` calls; a call that finds them all busy waits for the next batch. `work`
    names what is batched, in the operators' metric of batch sizes; `everyones` tells a
    failure no call of the batch would escape alone."""

    def __init__(
        self,
        work: str,
        write: Write[T, R],
        *,
        max_batch: int = 64,
        writers: int = 1,
        everyones: Callable[[Exception], bool] = lambda exc: False,
    ) -> None:
        if max_batch < 1 or writers < 1:
            raise ValueError("a batch holds at least one call, and one writer writes it")
        self._batch_sizes = CALLS_PER_BATCH.labels(work=work)
        self._write = write
        self._everyones = everyones
        self._max_batch = max_batch
        self._most_writers = writers
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        # The tasks writing batches while calls wait; none when there is nothing to write.
        self._writers: set[asyncio.Task[None]] = set()

    async def __call__(self, call: T) -> R:
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # Its error is the caller's to raise; a caller gone meanwhile never asks for it.
        answer.add_done_callback(_retrieved)
        self._waiting.append((call, answer))
        if len(self._writers) < self._most_writers:
            # A task of its own, not the caller's: a caller that goes away (its client hung
            # up) must not take the other callers' batch with it.
            self._writers.add(asyncio.create_task(self._write_waiting(), name="group-commit"))
        # The answer comes from the writer; shielded, so that a caller cancelled meanwhile
        # leaves its call to be written (or not) with the others, as it would alone.
        return await asyncio.shield(answer)

    async def _write_waiting(self) -> None:
        writer = asyncio.current_task()
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                self._batch_sizes.observe(len(batch))
                await self._write_batch(batch)
        except BaseException as exc:  # cancelled: no call left waiting for an answer
            for _, answer in self._waiting:
                _settle(answer, error=exc)
            self._waiting.clear()
            raise
        finally:
            # Here, with no await between the last look at the calls waiting and this: a
            # call that came after that look finds one writer fewer and starts its own.
            # (Left to the task's done callback, it could come in between, see every writer
            # still counted, start none and wait for ever.)
            self._writers.discard(writer)

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            answers = await self._write([call for call, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or self._everyones(exc):
                for _, answer in batch:
                    _settle(answer, error=exc)
                return
            log.warning("group_commit.batch_failed", calls=len(batch), error=type(exc).__name__)
            for one in batch:
                await self._write_batch([one])
            return
        except BaseException as exc:  # cancelled while writing: the calls are not answered
            for _, answer in batch:
                _settle(answer, error=exc)
            raise
        if len(answers) != len(batch):
            error = RuntimeError(f"a batch of {len(batch)} calls had {len(answers)} answers")
            for _, answer in batch:
                _settle(answer, error=error)
            return
        for (_, answer), result in zip(batch, answers, strict=True):
            _settle(answer, result=result)


def _retrieved(answer: asyncio.Future[R]) -> None:
    if not answer.cancelled():
        answer.exception()


def _settle(
    answer: asyncio.Future[R], *, result: R | None = None, error: BaseException | None = None
) -> None:
    if answer.done():  # its caller's loop is closing
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)  # type: ignore[arg-type]
