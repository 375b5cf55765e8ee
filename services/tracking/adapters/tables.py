"""tracking's tables: the request read model, the archive and its signed checkpoints,
deadlines and the alerts already emitted, and the outbox for those alerts."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.event_handlers import processed_events_table
from shared.eventstore import outbox_table

metadata = sa.MetaData()
processed_events = processed_events_table(metadata)
outbox = outbox_table(metadata)

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("domestic_reference", sa.String(40), nullable=True),
    sa.Column("foreign_reference", sa.String(100), nullable=True),
    sa.Column("requesting_authority", sa.String(300), nullable=True),
    # The identifier of the submitting authority (migration 0003): whose request it is.
    sa.Column("authority", sa.String(100), nullable=True),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("channel", sa.String(40), nullable=True),
    sa.Column("offence_category", sa.String(40), nullable=True),
    sa.Column("urgency", sa.String(20), nullable=True),
    sa.Column("offices", ARRAY(sa.String(100)), nullable=False, server_default="{}"),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    # The earliest deadline not yet met, for "overdue" and "due soon" filters.
    sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
    sa.Column("next_due_soon_at", sa.DateTime(timezone=True), nullable=True),
    # Lower-cased references and authority name, searched with trigrams.
    sa.Column("search", sa.Text, nullable=False, server_default=""),
    # The whole view, exactly as the fold produced it.
    sa.Column("view", JSONB, nullable=False),
)

# Running counts behind GET /v1/stats, kept by triggers on `requests` (migration 0002):
# per dimension (total, status, country, category, office, week) and key; and the duration
# of each stage in logarithmic buckets (domain/durations.py).
request_tallies = sa.Table(
    "request_tallies",
    metadata,
    sa.Column("dimension", sa.String(20), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
stage_durations = sa.Table(
    "stage_durations",
    metadata,
    sa.Column("stage", sa.String(40), primary_key=True),
    sa.Column("bucket", sa.Integer, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

# The append-only, hash-chained record of every event tracking consumed.
archive = sa.Table(
    "archive",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("prev_hash", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.LargeBinary, nullable=False),
    sa.Column("signed_at", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("deadline_id", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("due", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_soon_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("basis", sa.Text, nullable=False),
    sa.Column("rule_id", sa.String(100), nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("met", sa.Boolean, nullable=False),
)

# Each (deadline, threshold) alert, once: the record that makes the monitor idempotent
# across restarts and replays (a replay rebuilds read models, never this).
deadline_alerts = sa.Table(
    "deadline_alerts",
    metadata,
    sa.Column("deadline_id", sa.String(200), primary_key=True),
    sa.Column("threshold", sa.String(20), primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("emitted_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
