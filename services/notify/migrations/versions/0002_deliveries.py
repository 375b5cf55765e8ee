"""notify: request facts, subscriptions, deliveries; the inbox keeps the envelope.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("inbox", sa.Column("envelope", sa.LargeBinary, nullable=True))
    op.create_table(
        "request_facts",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("domestic_reference", sa.String(64)),
        sa.Column("authority_name", sa.String(300)),
        sa.Column("authority_country", sa.String(2)),
        sa.Column("authority_reference", sa.String(100)),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("office_names", JSONB, nullable=False),
        sa.Column("current_offices", JSONB, nullable=False),
        sa.Column("assignment_ids", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("event_types", ARRAY(sa.String(100)), nullable=False),
        sa.Column("default_event_types", sa.Boolean, nullable=False),
        sa.Column("authority_name", sa.String(300)),
        sa.Column("authority_country", sa.String(2)),
        sa.Column("office_id", sa.String(100)),
        sa.Column("role", sa.String(30)),
        sa.Column("url", sa.Text),
        sa.Column("secret", sa.Text),
        sa.Column("recipients", ARRAY(sa.String(254))),
        sa.Column("language", sa.String(10)),
        sa.Column("description", sa.String(300)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column(
            "subscription_id", sa.String(36), sa.ForeignKey("subscriptions.id"), nullable=False
        ),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_id", sa.String(36)),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(500)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("email_subject", sa.Text),
        sa.Column("email_text", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint(
            "event_key", "subscription_id", name="uq_deliveries_event_subscription"
        ),
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_index("ix_deliveries_subscription", "deliveries", ["subscription_id", "created_at"])
    op.create_index("ix_deliveries_created", "deliveries", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
    op.drop_table("request_facts")
    op.drop_column("inbox", "envelope")
