"""intake's tables: its event store and outbox, processed events, idempotency keys."""

import sqlalchemy as sa

from shared.event_handlers import processed_events_table
from shared.eventstore import event_store_tables

metadata = sa.MetaData()
events, outbox = event_store_tables(metadata)
processed_events = processed_events_table(metadata)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    # SHA-256 of the canonical request body: the same key with another body is a conflict.
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

domestic_reference_seq = sa.Sequence("domestic_reference_seq", metadata=metadata)
