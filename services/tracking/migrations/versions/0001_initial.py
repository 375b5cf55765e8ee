"""tracking: processed events, outbox, the request read model, the archive and its
checkpoints, deadlines and emitted alerts.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.migrations import create_outbox, create_processed_events

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_processed_events()
    create_outbox()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _requests()
    _archive()
    _deadlines()


def _requests() -> None:
    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("domestic_reference", sa.String(40), nullable=True),
        sa.Column("foreign_reference", sa.String(100), nullable=True),
        sa.Column("requesting_authority", sa.String(300), nullable=True),
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
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_soon_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search", sa.Text, nullable=False, server_default=""),
        sa.Column("view", JSONB, nullable=False),
    )
    # The list is paged by (received_at, request_id); each filter has its own index, and
    # the planner combines them (bitmap AND) for the rare multi-filter query.
    op.create_index("ix_requests_received", "requests", ["received_at", "request_id"])
    for column in ("status", "country", "channel", "offence_category", "urgency"):
        op.create_index(f"ix_requests_{column}", "requests", [column, "received_at", "request_id"])
    op.create_index("ix_requests_next_due", "requests", ["next_due"])
    op.create_index("ix_requests_offices", "requests", ["offices"], postgresql_using="gin")
    op.create_index(
        "ix_requests_search",
        "requests",
        ["search"],
        postgresql_using="gin",
        postgresql_ops={"search": "gin_trgm_ops"},
    )


def _archive() -> None:
    op.create_table(
        "archive",
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
    op.create_index("ix_archive_subject", "archive", ["subject", "position"])
    op.create_index("ix_archive_time", "archive", ["time"])
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.LargeBinary, nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )


def _deadlines() -> None:
    op.create_table(
        "deadlines",
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
    op.create_index(
        "ix_deadlines_open_due", "deadlines", ["due_soon_at"], postgresql_where=sa.text("NOT met")
    )
    op.create_table(
        "deadline_alerts",
        sa.Column("deadline_id", sa.String(200), primary_key=True),
        sa.Column("threshold", sa.String(20), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("emitted_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in (
        "deadline_alerts",
        "deadlines",
        "checkpoints",
        "archive",
        "requests",
        "outbox",
        "processed_events",
    ):
        op.drop_table(table)
