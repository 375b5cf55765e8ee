"""Two commands on the same request never both succeed: the event store on the real PostgreSQL.

Each writer does what a command handler does: load the stream, decide, append after the
version it loaded, commit. Whoever commits second finds the version taken and gets
`ConcurrencyError`; nothing it meant to write reaches `events` or `outbox`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.intake.adapters.tables import events, idempotency_keys, outbox
from shared.db import autocommit_driver, create_engine, session_factory
from shared.events.catalogue import RequestClosed, RequestWithdrawn, new_event
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import Outcome
from shared.eventstore import (
    ConcurrencyError,
    EventStore,
    EventTooLargeError,
    StreamAppend,
    decided_afresh,
)
from shared.kafka import MAX_EVENT_BYTES
from tests.support.deadlocks import Deadlock
from tests.support.infra import eventually, fresh_database

pytestmark = pytest.mark.integration

STORE = EventStore(events, outbox)


@dataclass
class Intake:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    engine = create_engine(await fresh_database("intake"))
    yield Intake(engine, session_factory(engine))
    await engine.dispose()


def closure(request_id: str, outcome: Outcome = Outcome.COMPLETED) -> CloudEvent:
    return new_event(RequestClosed(request_id=request_id, outcome=outcome), source="/mla/intake")


async def a_stream(intake: Intake) -> str:
    """A request whose stream holds one committed event (version 1)."""
    request_id = str(uuid.uuid4())
    first = new_event(RequestWithdrawn(request_id=request_id), source="/mla/intake")
    async with intake.sessions() as session, session.begin():
        await STORE.append(session, request_id, 0, [first])
    return request_id


async def loaded_version(session: AsyncSession, request_id: str) -> int:
    return len(await STORE.load(session, request_id))


async def stored_ids(intake: Intake, table: sa.Table) -> set[str]:
    async with intake.sessions() as session:
        return set(await session.scalars(sa.select(table.c.event_id)))


async def waiting_on_a_lock(intake: Intake) -> bool:
    async with intake.sessions() as session:
        waiting = await session.scalar(
            sa.text(
                "select count(*) from pg_stat_activity "
                "where datname = current_database() and wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_of_two_writers_that_loaded_the_same_version_only_the_first_to_commit_appends(
    intake: Intake,
) -> None:
    request_id = await a_stream(intake)
    winner, loser = closure(request_id), closure(request_id, Outcome.REFUSED)

    async with intake.sessions() as first, intake.sessions() as second:
        await first.begin()
        await second.begin()
        version = await loaded_version(first, request_id)
        assert await loaded_version(second, request_id) == version == 1

        assert await STORE.append(first, request_id, version, [winner]) == 2
        await first.commit()
        with pytest.raises(ConcurrencyError) as refused:
            await STORE.append(second, request_id, version, [loser])
        await second.rollback()

    assert (refused.value.stream_id, refused.value.expected_version) == (request_id, 1)
    assert winner.id in await stored_ids(intake, events)
    assert loser.id not in await stored_ids(intake, events)
    assert winner.id in await stored_ids(intake, outbox)
    assert loser.id not in await stored_ids(intake, outbox)


async def test_a_writer_waiting_behind_an_uncommitted_append_fails_once_the_first_commits(
    intake: Intake,
) -> None:
    request_id = await a_stream(intake)
    winner, loser = closure(request_id), closure(request_id, Outcome.REFUSED)

    async with intake.sessions() as first, intake.sessions() as second:
        await first.begin()
        await second.begin()
        version = await loaded_version(first, request_id)
        assert await loaded_version(second, request_id) == version
        await STORE.append(first, request_id, version, [winner])

        # The second insert of (stream, version 2) waits for the first transaction to end.
        blocked = asyncio.create_task(STORE.append(second, request_id, version, [loser]))
        await eventually(lambda: waiting_on_a_lock(intake), what="second append waits")
        assert not blocked.done()
        await first.commit()
        with pytest.raises(ConcurrencyError):
            await blocked
        await second.rollback()

    async with intake.sessions() as session:
        assert [e.event.id for e in await STORE.load(session, request_id)][1:] == [winner.id]
    assert loser.id not in await stored_ids(intake, outbox)


async def test_a_writer_waiting_behind_an_append_that_rolls_back_appends_after_all(
    intake: Intake,
) -> None:
    request_id = await a_stream(intake)
    abandoned, survivor = closure(request_id), closure(request_id, Outcome.REFUSED)

    async with intake.sessions() as first, intake.sessions() as second:
        await first.begin()
        await second.begin()
        await STORE.append(first, request_id, 1, [abandoned])
        waiting = asyncio.create_task(STORE.append(second, request_id, 1, [survivor]))
        await eventually(lambda: waiting_on_a_lock(intake), what="second append waits")
        await first.rollback()
        assert await waiting == 2
        await second.commit()

    assert abandoned.id not in await stored_ids(intake, events) | await stored_ids(intake, outbox)
    assert survivor.id in await stored_ids(intake, events) & await stored_ids(intake, outbox)


async def test_of_many_commands_racing_on_one_request_exactly_one_commits(
    intake: Intake,
) -> None:
    request_id = await a_stream(intake)
    loaded = asyncio.Barrier(8)

    async def command(outcome: Outcome) -> CloudEvent:
        event = closure(request_id, outcome)
        async with intake.sessions() as session, session.begin():
            version = await loaded_version(session, request_id)
            await loaded.wait()  # every command decides on the same version
            await STORE.append(session, request_id, version, [event])
        return event

    outcomes = [Outcome.COMPLETED, Outcome.PARTIALLY_COMPLETED, Outcome.REFUSED] * 3
    results = await asyncio.gather(
        *(command(outcome) for outcome in outcomes[:8]), return_exceptions=True
    )

    committed = [r for r in results if isinstance(r, CloudEvent)]
    assert len(committed) == 1, results
    assert all(isinstance(r, ConcurrencyError) for r in results if r not in committed)
    async with intake.sessions() as session:
        stream = await STORE.load(session, request_id)
    assert [(e.version, e.event.id) for e in stream][1:] == [(2, committed[0].id)]
    in_outbox = await stored_ids(intake, outbox)
    assert committed[0].id in in_outbox
    assert len(in_outbox) == 2  # the stream's first event and the winner's


# --- an append that is a transaction of its own (a submission) ------------------------------


def claiming(key: str, request_id: str, *events: CloudEvent) -> StreamAppend:
    claim = {"key": key, "fingerprint": "f", "request_id": request_id}
    return StreamAppend(request_id, 0, events, claim=claim)


async def append_alone(intake: Intake, *appends: StreamAppend) -> set[str]:
    async with autocommit_driver(intake.engine) as connection:
        return await STORE.append_alone(connection, appends, claims=idempotency_keys)


async def test_an_append_alone_claims_its_key_first_and_appends_nothing_when_it_was_taken(
    intake: Intake,
) -> None:
    async def submit(request_id: str, key: str) -> bool:
        first = new_event(RequestWithdrawn(request_id=request_id), source="/mla/intake")
        return request_id in await append_alone(intake, claiming(key, request_id, first))

    ids = [str(uuid.uuid4()) for _ in range(8)]
    stored = await asyncio.gather(*(submit(request_id, "one-key") for request_id in ids))

    assert stored.count(True) == 1, stored
    winner = ids[stored.index(True)]
    async with intake.sessions() as session:
        assert [await loaded_version(session, request_id) for request_id in ids].count(1) == 1
        assert await loaded_version(session, winner) == 1
        owner = await session.scalar(sa.select(idempotency_keys.c.request_id))
    assert owner == winner
    assert len(await stored_ids(intake, outbox)) == 1, "only the winner's event goes out"


async def test_one_append_alone_stores_many_streams_each_only_where_its_claim_holds(
    intake: Intake,
) -> None:
    # As a batch of submissions: one key used before, one given twice in the batch, one
    # new, and a stream without any claim.
    taken = str(uuid.uuid4())
    await append_alone(intake, claiming("taken", taken, closure(taken)))
    ids = [str(uuid.uuid4()) for _ in range(5)]
    events = {request_id: [closure(request_id), closure(request_id)] for request_id in ids}
    appends = [
        claiming("taken", ids[0], *events[ids[0]]),
        claiming("twice", ids[1], *events[ids[1]]),
        claiming("twice", ids[2], *events[ids[2]]),
        claiming("new", ids[3], *events[ids[3]]),
        StreamAppend(ids[4], 0, events[ids[4]]),
    ]

    assert await append_alone(intake, *appends) == {ids[1], ids[3], ids[4]}

    async with intake.sessions() as session:
        for request_id in (ids[1], ids[3], ids[4]):
            stream = await STORE.load(session, request_id)
            assert [(e.version, e.event.id) for e in stream] == [
                (1, events[request_id][0].id),
                (2, events[request_id][1].id),
            ]
        for request_id in (ids[0], ids[2]):
            assert await loaded_version(session, request_id) == 0
        keys = await session.execute(
            sa.select(idempotency_keys.c.key, idempotency_keys.c.request_id)
        )
        published = await session.scalars(sa.select(outbox.c.event_id).order_by(outbox.c.id))
        owners, out = {key: owner for key, owner in keys}, list(published)
    assert owners == {"taken": taken, "twice": ids[1], "new": ids[3]}
    # Only what was appended goes out, in the order given (each stream's in its order).
    assert out[1:] == [e.id for request_id in (ids[1], ids[3], ids[4]) for e in events[request_id]]


async def test_an_append_alone_on_a_version_taken_is_refused_whole(intake: Intake) -> None:
    request_id = await a_stream(intake)
    new_id = str(uuid.uuid4())
    again, beside = closure(request_id), closure(new_id)

    with pytest.raises(ConcurrencyError) as refused:
        await append_alone(
            intake, StreamAppend(new_id, 0, [beside]), StreamAppend(request_id, 0, [again])
        )

    assert (refused.value.stream_id, refused.value.expected_version) == (request_id, 0)
    for event in (again, beside):
        assert event.id not in await stored_ids(intake, events)
        assert event.id not in await stored_ids(intake, outbox)


async def test_an_event_too_large_to_publish_is_never_stored(intake: Intake) -> None:
    # Stored, it could never be sent, and every event after it would wait in the outbox.
    request_id = await a_stream(intake)
    huge = new_event(
        RequestWithdrawn(request_id=request_id, reason="x" * MAX_EVENT_BYTES),
        source="/mla/intake",
    )

    with pytest.raises(EventTooLargeError, match=r"mla\.request\.withdrawn"):
        async with intake.sessions() as session, session.begin():
            await STORE.append(session, request_id, 1, [closure(request_id), huge])
    with pytest.raises(EventTooLargeError):
        await append_alone(intake, StreamAppend(request_id, 1, [huge]))

    assert huge.id not in await stored_ids(intake, events)
    assert huge.id not in await stored_ids(intake, outbox)
    assert await loaded_version_of(intake, request_id) == 1
    # Kept without publishing (a fact observed from another service), its size is no matter.
    async with intake.sessions() as session, session.begin():
        await STORE.append(session, request_id, 1, [huge], publish=False)
    assert huge.id in await stored_ids(intake, events)


async def loaded_version_of(intake: Intake, request_id: str) -> int:
    async with intake.sessions() as session:
        return await loaded_version(session, request_id)


async def test_a_command_overtaken_by_another_write_is_decided_again_on_the_new_state(
    intake: Intake,
) -> None:
    # As when intake's consumer records routing's `routed` while the requester withdraws.
    request_id = await a_stream(intake)
    seen: list[int] = []

    async def withdraw_then_close() -> int:
        async with intake.sessions() as session, session.begin():
            version = await loaded_version(session, request_id)
            seen.append(version)
            if len(seen) == 1:  # another write commits between this load and its append
                async with intake.sessions() as other, other.begin():
                    await STORE.append(other, request_id, version, [closure(request_id)])
            return await STORE.append(session, request_id, version, [closure(request_id)])

    assert await decided_afresh(withdraw_then_close) == 3
    assert seen == [1, 2], "decided again on the version the other write left"


async def test_a_command_overtaken_every_time_is_refused_in_the_end(intake: Intake) -> None:
    request_id = await a_stream(intake)
    attempts = 0

    async def always_overtaken() -> int:
        nonlocal attempts
        attempts += 1
        async with intake.sessions() as session, session.begin():
            version = await loaded_version(session, request_id)
            async with intake.sessions() as other, other.begin():
                await STORE.append(other, request_id, version, [closure(request_id)])
            return await STORE.append(session, request_id, version, [closure(request_id)])

    with pytest.raises(ConcurrencyError):
        await decided_afresh(always_overtaken, attempts=3)
    assert attempts == 3


async def test_a_command_whose_transaction_loses_a_deadlock_is_decided_again(
    intake: Intake,
) -> None:
    """PostgreSQL breaks a deadlock by aborting one of the transactions: a command's is
    decided again, as when another write overtook it, instead of failing the caller."""
    deadlock = Deadlock(intake.sessions, times=1)
    attempts = 0

    async def takes_two_locks() -> int:
        nonlocal attempts
        attempts += 1
        async with intake.sessions() as session, session.begin():
            if attempts <= deadlock.times:
                await deadlock.lose(session)
        return attempts

    rivalry = asyncio.create_task(deadlock.rival())
    try:
        assert await decided_afresh(takes_two_locks) == 2
        await rivalry
    finally:
        rivalry.cancel()  # still waiting, when the command gave up
