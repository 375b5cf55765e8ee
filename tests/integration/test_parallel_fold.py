"""A replay of a large archive folds one share of the requests per process; the union of
the shares is the fold of the whole archive, event for event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.tracking.adapters.parallel_fold import fold_archive
from services.tracking.domain.history import Fold
from shared.db import UnitOfWork, create_engine, session_factory
from tests.support.infra import fresh_database
from tests.support.tracking_events import closed, executed, project, received, routed

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_three_processes_fold_the_archive_as_one_does() -> None:
    engine = create_engine(await fresh_database("tracking"), pool_size=2)
    try:
        for n in range(30):
            request_id, at = str(uuid.uuid4()), START + timedelta(hours=n)
            events = [received(request_id, at, ("AT", "DE", "HU")[n % 3], "corruption")]
            if n % 2:
                event, assignment = routed(request_id, at + timedelta(hours=1), "vjt-subotica")
                events.append(event)
                if n % 4 == 1:
                    events.append(executed(request_id, assignment, at + timedelta(days=2)))
                    events.append(closed(request_id, at + timedelta(days=3)))
            await project(engine, *events)

        folds = {}
        for workers, until in ((1, None), (3, None), (1, 40), (3, 40)):
            fold = Fold(position=until, trusted=True)
            async with UnitOfWork(session_factory(engine)) as uow:
                await fold_archive(
                    uow.session, fold, until_position=until, workers=workers, parallel_from=0
                )
            folds[workers, until] = fold.result()
    finally:
        await engine.dispose()

    whole, parallel = folds[1, None], folds[3, None]
    assert len(whole.views) == 30 and whole.events_applied == 30 + 15 + 2 * 8
    assert parallel.views == whole.views
    assert parallel.events_applied == whole.events_applied
    assert folds[3, 40].views == folds[1, 40].views
    assert folds[3, 40].events_applied == folds[1, 40].events_applied == 40
