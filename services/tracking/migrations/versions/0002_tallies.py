"""tracking: statistics kept as running tallies, so that `GET /v1/stats` reads a few hundred
rows instead of aggregating every request.

Counts per status, country, category, office and week of receipt live in `request_tallies`;
the duration of each stage, in logarithmic buckets (1 % wide, see
services/tracking/domain/durations.py), in `stage_durations`. Statement-level triggers on
`requests` keep both exact on every write path at once: the projector's upsert, a replay's
bulk rewrite, a COPY. Each statement adds its new rows and subtracts its old ones, grouped,
so a status change touches two counters and a bulk load of a million rows is one grouped
insert.

Revision ID: 0002_tallies
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_tallies"
down_revision = "0001"

# The stages measured: from which timestamp to which.
STAGES = (
    ("received_to_routed", "received_at", "routed_at"),
    ("routed_to_executed", "routed_at", "executed_at"),
    ("executed_to_closed", "executed_at", "closed_at"),
    ("received_to_closed", "received_at", "closed_at"),
)

# Rows in, with +1, and rows out, with -1, for each kind of statement.
CHANGED = {
    "insert": "SELECT 1 AS n, r.* FROM new_rows r",
    "update": "SELECT 1 AS n, r.* FROM new_rows r UNION ALL SELECT -1, r.* FROM old_rows r",
    "delete": "SELECT -1 AS n, r.* FROM old_rows r",
}


def _tally(changed: str) -> list[str]:
    """Add the changed rows' contributions to the counters, in key order (the order in which
    concurrent writers lock them)."""
    stages = " UNION ALL ".join(
        f"SELECT '{name}' AS stage, {start} AS started, {end} AS ended, n FROM changed"
        for name, start, end in STAGES
    )
    counts = f"""
    WITH changed AS ({changed})
    INSERT INTO request_tallies AS t (dimension, key, count)
    SELECT dimension, key, sum(n) FROM (
        SELECT 'total' AS dimension, '' AS key, n FROM changed
        UNION ALL SELECT 'status', status, n FROM changed
        UNION ALL SELECT 'country', coalesce(country, ''), n FROM changed
        UNION ALL SELECT 'category', coalesce(offence_category, ''), n FROM changed
        UNION ALL SELECT 'office', office, n FROM changed, unnest(offices) AS office
        UNION ALL SELECT 'week',
            to_char(date_trunc('week', received_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), n
            FROM changed WHERE received_at IS NOT NULL
    ) contributions
    GROUP BY dimension, key HAVING sum(n) <> 0 ORDER BY dimension, key
    ON CONFLICT (dimension, key) DO UPDATE SET count = t.count + excluded.count
    """
    durations = f"""
    WITH changed AS ({changed})
    INSERT INTO stage_durations AS s (stage, bucket, count)
    SELECT stage, duration_bucket(extract(epoch FROM ended - started)), sum(n) FROM (
        {stages}
    ) durations
    WHERE started IS NOT NULL AND ended IS NOT NULL
    GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
    ON CONFLICT (stage, bucket) DO UPDATE SET count = s.count + excluded.count
    """
    return [counts, durations]


def upgrade() -> None:
    op.create_table(
        "request_tallies",
        sa.Column("dimension", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stage_durations",
        sa.Column("stage", sa.String(40), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    # Bucket 0 holds durations under a minute (and negative ones, from clocks that
    # disagree); bucket b ≥ 1 holds [60·1.01^(b-1), 60·1.01^b) seconds.
    op.execute(
        "CREATE FUNCTION duration_bucket(seconds double precision) RETURNS integer "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN seconds < 60 THEN 0 "
        "ELSE 1 + floor(ln(seconds / 60) / ln(1.01))::integer END $$"
    )
    for kind, changed in CHANGED.items():
        op.execute(
            f"CREATE FUNCTION tally_requests_{kind}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {'; '.join(_tally(changed))}; RETURN NULL; END $$"
        )
        tables = {
            "insert": "NEW TABLE AS new_rows",
            "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "delete": "OLD TABLE AS old_rows",
        }[kind]
        op.execute(
            f"CREATE TRIGGER requests_tally_{kind} AFTER {kind.upper()} ON requests "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION tally_requests_{kind}()"
        )
    # TRUNCATE fires no row or delete trigger: empty the tallies with the requests.
    op.execute(
        "CREATE FUNCTION tally_requests_truncate() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM request_tallies; DELETE FROM stage_durations; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER requests_tally_truncate AFTER TRUNCATE ON requests "
        "FOR EACH STATEMENT EXECUTE FUNCTION tally_requests_truncate()"
    )
    # What the read model already holds.
    for statement in _tally("SELECT 1 AS n, r.* FROM requests r"):
        op.execute(statement)


def downgrade() -> None:
    for kind in (*CHANGED, "truncate"):
        op.execute(f"DROP TRIGGER requests_tally_{kind} ON requests")
        op.execute(f"DROP FUNCTION tally_requests_{kind}()")
    op.execute("DROP FUNCTION duration_bucket(double precision)")
    op.drop_table("stage_durations")
    op.drop_table("request_tallies")
