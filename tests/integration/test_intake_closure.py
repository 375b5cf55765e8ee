"""The department closes a request as soon as it sees the last office's report, on the real
PostgreSQL: the report is routing's fact, which intake learns from the topic, so a closure
refused for want of it is decided once more after intake's consumer has caught up
(`caught_up`), and only such a refusal is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import handlers as intake
from services.intake.adapters.repository import RequestRepository
from services.intake.adapters.tables import events, outbox
from services.intake.domain.errors import ExecutionOutstandingError, IllegalTransitionError
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import read_payload
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import Outcome
from shared.eventstore import EventStore
from tests.support.infra import fresh_database
from tests.support.tracking_events import closed, executed, received, routed

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORE = EventStore(events, outbox)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    engine = create_engine(await fresh_database("intake"), pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


async def keep(sessions: Sessions, request_id: str, *history: CloudEvent) -> None:
    async with UnitOfWork(sessions) as uow:
        await STORE.append(uow.session, request_id, 0, list(history), publish=False)
        await uow.commit()


async def a_routed_request(sessions: Sessions) -> tuple[str, str]:
    """A request intake received and knows routed to one office: its id and assignment."""
    request_id = str(uuid.uuid4())
    routed_event, assignment = routed(request_id, MONDAY + timedelta(hours=1), "vjt-subotica")
    await keep(sessions, request_id, received(request_id, MONDAY, "AT", "corruption"), routed_event)
    return request_id, assignment


async def status_of(sessions: Sessions, request_id: str) -> str:
    async with UnitOfWork(sessions) as uow:
        return (await RequestRepository(uow.session).get(request_id)).status


async def close(
    sessions: Sessions, request_id: str, caught_up: Callable[[], Awaitable[bool]] | None
) -> object:
    return await intake.close_request(
        UnitOfWork(sessions),
        request_id,
        Outcome.COMPLETED,
        None,
        "Records seized.",
        None,
        caught_up=caught_up,
    )


async def test_a_report_still_on_its_way_to_intake_is_waited_for_and_the_closure_goes_through(
    sessions: Sessions,
) -> None:
    request_id, assignment = await a_routed_request(sessions)
    report = executed(request_id, assignment, MONDAY + timedelta(days=2))
    asked = 0

    async def consumer_takes_in_the_report() -> bool:
        # What intake's consumer does with the report it fetches meanwhile.
        nonlocal asked
        asked += 1
        async with UnitOfWork(sessions) as uow:
            await intake.observe_routing(uow.session, [(report, read_payload(report))])
            await uow.commit()
        return True

    await close(sessions, request_id, consumer_takes_in_the_report)
    assert asked == 1
    assert await status_of(sessions, request_id) == "closed"


async def test_a_report_that_has_not_come_leaves_the_closure_refused_with_the_state(
    sessions: Sessions,
) -> None:
    request_id, _ = await a_routed_request(sessions)

    async def caught_up_with_nothing_new() -> bool:
        return True

    async def could_not_catch_up() -> bool:
        return False

    for caught_up in (caught_up_with_nothing_new, could_not_catch_up, None):
        with pytest.raises(ExecutionOutstandingError) as refused:
            await close(sessions, request_id, caught_up)
        assert refused.value.state == "routed"
        assert "1 of 1 assignment(s) have not reported execution" in str(refused.value)
    assert await status_of(sessions, request_id) == "routed"


async def test_a_closure_refused_for_another_reason_does_not_wait(
    sessions: Sessions,
) -> None:
    request_id = str(uuid.uuid4())
    await keep(
        sessions,
        request_id,
        received(request_id, MONDAY, "AT", "corruption"),
        closed(request_id, MONDAY + timedelta(days=1)),
    )

    async def never() -> bool:
        raise AssertionError("a closed request has no report to wait for")

    with pytest.raises(IllegalTransitionError) as refused:
        await close(sessions, request_id, never)
    assert not isinstance(refused.value, ExecutionOutstandingError)
    assert refused.value.state == "closed"
