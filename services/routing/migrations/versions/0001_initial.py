"""routing: event store, outbox, processed events, assignment index, directory versions.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.migrations import create_event_store, create_processed_events

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_store()
    create_processed_events()
    op.create_table(
        "assignment_index",
        sa.Column("assignment_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("office_id", sa.String(100), nullable=False),
    )
    op.create_table(
        "directory_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", JSONB, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in ("directory_versions", "assignment_index", "processed_events", "outbox", "events"):
        op.drop_table(table)
