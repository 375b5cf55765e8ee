"""notify's tables: processed events and the inbox of events to turn into messages."""

import sqlalchemy as sa

from shared.consumer import processed_events_table

metadata = sa.MetaData()
processed_events = processed_events_table(metadata)

# Every lifecycle event notify has taken in, once: the source of its deliveries.
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("event_key", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
