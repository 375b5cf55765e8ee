"""A replay of a large archive folds one share of the requests per process, each compared
with the live read model there: together they answer exactly as one process does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.tracking import audit
from shared.db import UnitOfWork, create_engine, session_factory
from tests.support.infra import fresh_database
from tests.support.tracking_events import executed, project, received, routed

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_replay_in_three_processes_answers_as_one_process_does() -> None:
    engine = create_engine(await fresh_database("tracking"), pool_size=2)
    sessions = session_factory(engine)
    try:
        for n in range(12):
            request_id, at = str(uuid.uuid4()), START + timedelta(hours=n)
            event, assignment = routed(request_id, at + timedelta(hours=1), "vjt-subotica")
            events = [received(request_id, at, "AT", "corruption"), event]
            if n % 3 == 0:
                events.append(executed(request_id, assignment, at + timedelta(days=2)))
            await project(engine, *events)

        async def answers(workers: int, **replay: Any) -> dict[str, Any]:
            return await audit.replay(
                UnitOfWork(sessions), workers=workers, parallel_from=0, **replay
            )

        whole = await answers(1)
        assert whole["equal_to_live"] and whole["events_replayed"] == 28
        assert whole["by_status"] == {"routed": 8, "executed": 4}
        assert await answers(3) == whole
        as_of = {"until_position": 20}
        assert await answers(3, **as_of) == await answers(1, **as_of)
        moment = {"as_of": START + timedelta(hours=5, minutes=30)}
        assert await answers(3, **moment) == await answers(1, **moment)

        # A live view that a replay does not give back is found by the share that holds it.
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "UPDATE requests SET view = jsonb_set(view, '{status}', '\"closed\"') "
                    "WHERE request_id = :id"
                ),
                {"id": request_id},
            )
        differing = await answers(3)
        assert differing == await answers(1)
    finally:
        await engine.dispose()
    assert differing["differing_count"] == 1 and differing["differing_requests"] == [request_id]
