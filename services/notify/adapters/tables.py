"""notify's tables: processed events, the inbox, request facts, subscriptions, deliveries."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.event_handlers import processed_events_table

metadata = sa.MetaData()
processed_events = processed_events_table(metadata)

# Every lifecycle event notify has taken in, once: the source of its deliveries. `envelope`
# is the CloudEvent as received (structured JSON), the body of its webhooks.
inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("event_key", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("envelope", sa.LargeBinary, nullable=True),
)

# The few facts of each request later events need (no persons, no facts of the case).
request_facts = sa.Table(
    "request_facts",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("domestic_reference", sa.String(64)),
    sa.Column("authority_name", sa.String(300)),
    sa.Column("authority_country", sa.String(2)),
    sa.Column("authority_reference", sa.String(100)),
    sa.Column("authority", sa.String(100)),  # the submitting authority's identifier
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("office_names", JSONB, nullable=False),
    sa.Column("current_offices", JSONB, nullable=False),
    sa.Column("assignment_ids", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("event_types", ARRAY(sa.String(100)), nullable=False),
    sa.Column("default_event_types", sa.Boolean, nullable=False),
    sa.Column("authority_name", sa.String(300)),
    sa.Column("authority_country", sa.String(2)),
    sa.Column("office_id", sa.String(100)),
    sa.Column("role", sa.String(30)),
    sa.Column("url", sa.Text),
    # The HMAC key, whsec_<base64>: shown once at creation, needed for every signature.
    sa.Column("secret", sa.Text),
    sa.Column("recipients", ARRAY(sa.String(254))),
    sa.Column("language", sa.String(10)),
    sa.Column("description", sa.String(300)),
    # Whose it is: an authority or an office (NULL: the department's). Migration 0003.
    sa.Column("owner_kind", sa.String(10)),
    sa.Column("owner_id", sa.String(100)),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
)

# One row per (event, subscription): the unique key makes a redelivered event change nothing.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # also the webhook-id
    sa.Column("event_key", sa.String(200), nullable=False),
    sa.Column("subscription_id", sa.String(36), sa.ForeignKey("subscriptions.id"), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    # An instance that claims a delivery leases it; a crashed instance's lease runs out.
    sa.Column("lease_id", sa.String(36)),
    sa.Column("leased_until", sa.DateTime(timezone=True)),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    # E-mail only: the text as rendered when the event came in (no personal data).
    sa.Column("email_subject", sa.Text),
    sa.Column("email_text", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.UniqueConstraint("event_key", "subscription_id", name="uq_deliveries_event_subscription"),
    sa.Index(
        "ix_deliveries_due",
        "next_attempt_at",
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    ),
    sa.Index("ix_deliveries_subscription", "subscription_id", "created_at"),
    sa.Index("ix_deliveries_created", "created_at", "id"),
)
