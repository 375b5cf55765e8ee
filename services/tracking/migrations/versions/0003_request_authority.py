"""tracking: the requesting authority that submitted each request, so that an authority's
list and reads can be limited to its own requests (shared/auth).

Requests received before `mla.request.received` carried the authority keep NULL: only the
department's roles reach them.

Revision ID: 0003_request_authority
Revises: 0002_tallies
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_request_authority"
down_revision = "0002_tallies"


def upgrade() -> None:
    op.add_column("requests", sa.Column("authority", sa.String(100), nullable=True))
    op.create_index("ix_requests_authority", "requests", ["authority", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_requests_authority", table_name="requests")
    op.drop_column("requests", "authority")
