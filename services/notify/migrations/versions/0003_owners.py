"""notify: whose each request and each subscription is, so that a requesting authority or an
executing office subscribes to, lists and reads only what is its own (shared/auth).

`request_facts.authority`: the identifier of the authority that submitted the request (from
`mla.request.received`; NULL for the department's and for requests from before).
`subscriptions.owner_kind` / `owner_id`: `authority` or `office` and its identifier; NULL for
the department's subscriptions, which every existing one is.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("request_facts", sa.Column("authority", sa.String(100)))
    op.add_column("subscriptions", sa.Column("owner_kind", sa.String(10)))
    op.add_column("subscriptions", sa.Column("owner_id", sa.String(100)))
    op.create_index("ix_subscriptions_owner", "subscriptions", ["owner_kind", "owner_id"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_owner", table_name="subscriptions")
    op.drop_column("subscriptions", "owner_id")
    op.drop_column("subscriptions", "owner_kind")
    op.drop_column("request_facts", "authority")
