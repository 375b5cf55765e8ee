"""The event store's statements (shared/eventstore.py), written by hand once per pair of
tables and run on the driver's connection: each is one round trip whatever the number of
events, its columns passed as arrays."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared.db import quoted


@dataclass(frozen=True)
class Statements:
    # One stream or many: a command's stream, a consumer's batch, submissions together.
    load_many: str
    # With `{guard:…}` where `claiming` puts a claim's conditions (`append_alone`).
    append_many: str


@functools.cache
def statements(events: sa.Table, outbox: sa.Table) -> Statements:
    """The store's statements, written once per pair of tables and run on the driver's
    connection (`shared.db.driver`).

    An append is one statement, one round trip, for any number of events of any number of
    streams: the events, and in a CTE their outbox rows, each column an array. A conflict on
    the version refuses both (the caller's transaction is then spent: it rolls back, and the
    command decides again on what the other writer appended). The same text whatever the
    count, so it is prepared once per connection (a multi-row VALUES would be another
    statement for every count)."""
    publish = (
        f"INSERT INTO {quoted(outbox)} (event_id, key, type, body) "
        "SELECT i, k, t, b FROM unnest($6::varchar[], $7::varchar[], $8::varchar[], "
        "$9::bytea[]) AS published(i, k, t, b)"
    )
    # Each event's stream in $1 (an append alone may write to several); `{guard:s}` and
    # `{guard:i}` are where `claiming` puts its conditions, none without claims.
    alone = (
        f"WITH appended AS (INSERT INTO {quoted(events)} "
        "(stream_id, version, event_id, type, envelope) "
        "SELECT s, v, i, t, e::jsonb FROM unnest($1::varchar[], $2::integer[], "
        "$3::varchar[], $4::varchar[], $5::text[]) AS appended(s, v, i, t, e){guard:s} "
        "RETURNING stream_id, event_id), "
        f"published AS ({publish}{{guard:i}}) "
        "SELECT DISTINCT stream_id FROM appended"
    )
    return Statements(
        load_many=(
            f"SELECT stream_id, position, version, envelope, recorded_at FROM {quoted(events)} "
            "WHERE stream_id = ANY($1::varchar[]) ORDER BY stream_id, version"
        ),
        append_many=alone,
    )


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


@functools.cache
def claiming(alone: str, table: sa.Table | None, columns: tuple[str, ...]) -> str:
    """`append_many` with the claims' rows inserted first and each appended row guarded by
    its stream's claim: the parameters after the append's nine are the claiming streams,
    then each of the claim's `columns`, all arrays. A stream with no claim is appended as
    it is; one whose claim's row was not inserted (its key taken) not at all."""
    if table is None or not columns:
        return alone.replace("{guard:s}", "").replace("{guard:i}", "")
    names = ", ".join(f'"{c}"' for c in columns)
    arrays = ", ".join(
        f"${11 + n}::{table.c[c].type.compile(dialect=_POSTGRESQL)}[]"
        for n, c in enumerate(columns)
    )
    claims = (
        f"claimed AS (INSERT INTO {quoted(table)} ({names}) SELECT {names} FROM unnest("
        f"{arrays}) AS claim({names}) ON CONFLICT DO NOTHING RETURNING {names}), "
        # The streams whose claim's row was inserted: a row given with a key taken (before,
        # or by an earlier row of this statement) is not among those returned.
        f"admitted AS (SELECT s FROM unnest($10::varchar[], {arrays}) AS wanted(s, {names}) "
        f"WHERE ({names}) IN (SELECT {names} FROM claimed)), "
    )
    # Each ARRAY(...) taken once for the statement, then a filter on each row in its order
    # (a join could reorder the rows, and with them the positions of a stream's events).
    # An event goes out only when it was appended.
    statement = alone.replace(
        "{guard:s}",
        " WHERE NOT (s = ANY($10::varchar[])) OR s = ANY(ARRAY(SELECT s FROM admitted))",
    ).replace("{guard:i}", " WHERE i = ANY(ARRAY(SELECT event_id FROM appended))")
    return statement.replace("WITH ", f"WITH {claims}", 1)
