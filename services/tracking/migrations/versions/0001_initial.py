"""tracking: processed events, the request read model, the timeline.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.migrations import create_processed_events

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_processed_events()
    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("domestic_reference", sa.String(40), nullable=True, unique=True),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("offence_category", sa.String(40), nullable=True),
        sa.Column("urgency", sa.String(20), nullable=True),
        sa.Column("offices", ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("view", JSONB, nullable=False),
    )
    op.create_table(
        "timeline",
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("envelope", JSONB, nullable=False),
    )


def downgrade() -> None:
    for table in ("timeline", "requests", "processed_events"):
        op.drop_table(table)
