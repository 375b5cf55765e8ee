"""intake: event store, outbox, processed events, idempotency keys, reference numbers.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_event_store, create_processed_events

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_store()
    create_processed_events()
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.execute(sa.schema.CreateSequence(sa.Sequence("domestic_reference_seq")))


def downgrade() -> None:
    for table in ("idempotency_keys", "processed_events", "outbox", "events"):
        op.drop_table(table)
    op.execute(sa.schema.DropSequence(sa.Sequence("domestic_reference_seq")))
