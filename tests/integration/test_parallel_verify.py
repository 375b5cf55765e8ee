"""A large archive is verified by several processes, one position range each: intact, the
answer is the one-pass walk's; tampered with, the one-pass walk runs and names the break."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from services.tracking import audit
from services.tracking.adapters.parallel_verify import verify_in_ranges
from services.tracking.domain.archive import Verification, generate_private_key
from shared.db import UnitOfWork, create_engine, session_factory
from tests.support.infra import fresh_database
from tests.support.tracking_events import closed, executed, project, received, routed

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = generate_private_key()


async def test_three_processes_verify_the_archive_as_one_pass_does() -> None:
    url = await fresh_database("tracking")
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    try:
        for n in range(20):
            request_id, at = str(uuid.uuid4()), START + timedelta(hours=n)
            event, assignment = routed(request_id, at + timedelta(hours=1), "vjt-subotica")
            await project(
                engine,
                received(request_id, at, "AT", "corruption"),
                event,
                executed(request_id, assignment, at + timedelta(days=2)),
            )
            if n in (6, 13):  # checkpoints inside the ranges, not only at the end
                await audit.sign_head(UnitOfWork(sessions), KEY)
        await project(engine, closed(request_id, START + timedelta(days=9)))
        await audit.sign_head(UnitOfWork(sessions), KEY)

        async def verified(workers: int) -> Verification:
            return await audit.verify_archive(
                UnitOfWork(sessions), KEY, workers=workers, parallel_from=0
            )

        one_pass, in_ranges = await verified(1), await verified(3)
        assert one_pass.ok and one_pass.entries_checked == 61
        assert one_pass.checkpoints_checked == 3
        assert in_ranges == one_pass
        checkpoints = await audit.all_checkpoints(UnitOfWork(sessions))
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        joined = await verify_in_ranges(dsn, 61, checkpoints, KEY.public_key(), 3)
        assert joined == one_pass  # the answer came from the ranges, not the fallback

        # A byte changed in the first entry of the second range (positions 21..40).
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "UPDATE archive SET body = overlay(body placing '\\x21'::bytea from 40 for 1) "
                "WHERE position = 21"
            )
        finally:
            await connection.close()
        one_pass, in_ranges = await verified(1), await verified(3)
        assert await verify_in_ranges(dsn, 61, checkpoints, KEY.public_key(), 3) is None
    finally:
        await engine.dispose()
    assert one_pass.first_problem is not None
    assert (one_pass.first_problem.position, one_pass.first_problem.kind) == (21, "changed")
    assert in_ranges == one_pass
