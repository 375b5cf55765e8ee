"""Read models rebuilt by a replay, compared with the live ones and merged into them.

`live_views` reads the live views as JSON text, for the caller to parse with orjson
(the driver would decode them with the standard library's json, several times slower).
Applying copies (COPY, through the driver) the rebuilt rows into temporary tables shaped
like the live ones, then writes only what differs: rows the replay does not have are
deleted, rows it alone has are inserted, rows whose content changed are updated. A replay
that agrees with the live read models writes nothing, and the indexes are left alone.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.archive_store import share_condition
from services.tracking.adapters.read_model import row_of
from services.tracking.adapters.tables import deadlines, requests
from services.tracking.domain.deadline_plan import PlannedDeadline
from services.tracking.domain.view import RequestView
from shared.db import driver

REQUEST_COLUMNS = tuple(c.name for c in requests.columns)
DEADLINE_COLUMNS = tuple(c.name for c in deadlines.columns)
_STAGED = {"requests": "replayed_requests", "deadlines": "replayed_deadlines"}


def request_record(view: RequestView, planned: Sequence[PlannedDeadline] | None) -> tuple[Any, ...]:
    """The row of the rebuilt view, with its next deadline when `planned`, for COPY."""
    # The projector's rule (`handlers.project_event`): the earliest due time and the
    # earliest due-soon mark among the deadlines still open.
    still_open = [d for d in planned or () if not d.satisfied]
    row = row_of(
        view,
        min((d.due for d in still_open), default=None),
        min((d.due_soon_at for d in still_open), default=None),
    )
    row["view"] = orjson.dumps(row["view"]).decode()  # what the driver's jsonb codec takes
    return tuple(row[name] for name in REQUEST_COLUMNS)


def deadline_records(planned: Iterable[PlannedDeadline]) -> list[tuple[Any, ...]]:
    """The rows of a request's planned deadlines, for COPY."""
    return [
        (d.id, d.request_id, d.kind, d.due, d.due_soon_at, d.basis, d.rule_id, d.confirmed,
         d.satisfied)
        for d in planned
    ]  # fmt: skip


async def live_views(
    session: AsyncSession, page: int = 5000, *, share: tuple[int, int] | None = None
) -> AsyncGenerator[list[tuple[str, str]], None]:
    """Every live view as (request id, JSON text), a page at a time, in no particular
    order; with `share` (k, n), only those of the k-th of n shares of the requests (as the
    archive's shares: `archive_store.share_condition`)."""
    connection = await driver(session)
    # One scan through a cursor (in the session's transaction): pages by keyset would sort
    # the share's rows again for every page.
    where, parameters = ("", ()) if share is None else (f" WHERE {share_condition(1)}", share)
    cursor = await connection.cursor(
        f"SELECT request_id, view::text FROM requests{where}", *parameters
    )
    while rows := await cursor.fetch(page):
        yield [(row[0], row[1]) for row in rows]


class Rebuild:
    """The staging tables of one replay; they disappear with its transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def begin(self) -> None:
        for live, staged in _STAGED.items():
            await self._execute(
                f"CREATE TEMPORARY TABLE {staged} (LIKE {live} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
        # Staged once and read once: compressing the views (pglz) would cost more than the
        # copy itself.
        await self._execute("ALTER TABLE replayed_requests ALTER COLUMN view SET STORAGE EXTERNAL")

    async def stage_requests(self, records: Iterable[tuple[Any, ...]]) -> None:
        """Whole rows (`request_record`)."""
        await self._copy("replayed_requests", records, REQUEST_COLUMNS)

    async def stage_deadlines(self, records: Iterable[tuple[Any, ...]]) -> None:
        await self._copy("replayed_deadlines", records, DEADLINE_COLUMNS)

    async def merge(self) -> dict[str, int]:
        """Make the live read models equal to the staged ones, writing only what differs;
        how many rows each statement changed."""
        changed: dict[str, int] = {}
        # Whole-table anti- and semi-joins: hash joins. A nested loop, which the planner
        # picks when the live table looks empty (a read model being rebuilt from nothing),
        # rescans the table it is filling for every row: hours instead of seconds.
        await self._execute("SET LOCAL enable_nestloop = off")
        for live, staged in _STAGED.items():
            await self._execute(f"ANALYZE {staged}")
            key = "request_id" if live == "requests" else "deadline_id"
            columns = REQUEST_COLUMNS if live == "requests" else DEADLINE_COLUMNS
            values = ", ".join(c for c in columns if c != key)
            staged_values = ", ".join(f"s.{c}" for c in columns if c != key)
            statements = {
                "deleted": f"DELETE FROM {live} l WHERE NOT EXISTS "
                f"(SELECT FROM {staged} r WHERE r.{key} = l.{key})",
                "inserted": f"INSERT INTO {live} SELECT r.* FROM {staged} r WHERE NOT EXISTS "
                f"(SELECT FROM {live} l WHERE l.{key} = r.{key})",
                "updated": f"UPDATE {live} l SET ({values}) = ({staged_values}) FROM {staged} s "
                f"WHERE s.{key} = l.{key} AND ROW(s.*) IS DISTINCT FROM ROW(l.*)",
            }
            for outcome, sql in statements.items():
                status = await self._execute(sql)
                changed[f"{live}_{outcome}"] = int(status.rsplit(" ", 1)[-1])
        return changed

    async def _copy(self, table: str, records: Iterable[tuple[Any, ...]], columns: Any) -> None:
        connection = await driver(self._session)
        await connection.copy_records_to_table(table, records=records, columns=list(columns))

    async def _execute(self, sql: str) -> str:
        connection = await driver(self._session)
        status: str = await connection.execute(sql)
        return status
