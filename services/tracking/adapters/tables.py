"""tracking's tables: the request read model and the timeline of every event."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.consumer import processed_events_table

metadata = sa.MetaData()
processed_events = processed_events_table(metadata)

requests = sa.Table(
    "requests",
    metadata,
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
    # The whole view, exactly as the fold produced it.
    sa.Column("view", JSONB, nullable=False),
)

timeline = sa.Table(
    "timeline",
    metadata,
    sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("envelope", JSONB, nullable=False),
)
