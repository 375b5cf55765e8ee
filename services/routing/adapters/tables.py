"""routing's tables: event store and outbox, processed events, the assignment index and
the versions of the office directory."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from shared.event_handlers import processed_events_table
from shared.eventstore import event_store_tables

metadata = sa.MetaData()
events, outbox = event_store_tables(metadata)
processed_events = processed_events_table(metadata)

# Which request an assignment belongs to, so an office can report by assignment id.
assignment_index = sa.Table(
    "assignment_index",
    metadata,
    sa.Column("assignment_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("office_id", sa.String(100), nullable=False),
)

# Every version of the office directory, whole; the highest is current. A routing decision
# names the version it used, so it can be explained later with the data it rested on.
directory_versions = sa.Table(
    "directory_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", JSONB, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("changed_by", sa.String(200), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
