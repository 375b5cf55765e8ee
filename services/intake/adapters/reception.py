"""Where submissions are numbered and stored: together, when they arrive together.

Each submission alone is two statements, two commits (its number, then its events). Under
load, those round trips and commits were the largest part of intake's work and of the
database's for it (docs/benchmarks/system.md, change 50), so the submissions that arrive
while others are being stored wait and are stored next, all in the same two statements
(`shared.group_commit`). A submission still gets its answer only once its own events are
committed; one that arrives alone is stored at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import asyncpg

from services.intake.adapters.repository import Received, Submissions
from services.intake.domain.request import AssistanceRequest
from shared.db import is_transient
from shared.events.envelope import CloudEvent
from shared.group_commit import GroupCommit


@dataclass(frozen=True)
class Arrival:
    """A submission at the desk: its Idempotency-Key (scoped to its submitter) and the print
    of its body, and how it becomes a request and its events once it has its number."""

    idempotency_key: str | None
    fingerprint: str
    numbered: Callable[[int], tuple[AssistanceRequest, list[CloudEvent]]]


class Reception:
    """`await reception.register(arrival)`: the request stored, or None when its
    Idempotency-Key was used before (or claimed meanwhile): nothing was stored for it."""

    def __init__(
        self,
        statements: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]],
        *,
        max_batch: int,
        writers: int,
    ) -> None:
        self._statements = statements
        self._group: GroupCommit[Arrival, AssistanceRequest | None] = GroupCommit(
            "submissions",
            self._register,
            max_batch=max_batch,
            writers=writers,
            # The database out of reach: every submission of the batch is refused at once
            # (503), not tried again one by one against a server that is not there.
            everyones=is_transient,
        )

    async def register(self, arrival: Arrival) -> AssistanceRequest | None:
        return await self._group(arrival)

    async def _register(self, arrivals: Sequence[Arrival]) -> list[AssistanceRequest | None]:
        async with self._statements() as connection:
            submissions = Submissions(connection)
            numbers = await submissions.numbers([each.idempotency_key for each in arrivals])
            numbered: list[Received | None] = []
            for arrival, number in zip(arrivals, numbers, strict=True):
                if number is None:
                    numbered.append(None)
                    continue
                request, events = arrival.numbered(number)
                claiming = (
                    (arrival.idempotency_key, arrival.fingerprint)
                    if arrival.idempotency_key
                    else None
                )
                numbered.append(Received(request, events, claiming))
            to_store = [each for each in numbered if each is not None]
            stored = await submissions.store(to_store) if to_store else set()
        return [
            each.request if each is not None and each.request.id in stored else None
            for each in numbered
        ]
