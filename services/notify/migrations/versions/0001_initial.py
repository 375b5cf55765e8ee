"""notify: processed events and the inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_processed_events

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_processed_events()
    op.create_table(
        "inbox",
        sa.Column("event_key", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("processed_events")
