"""The key vault: one wrapped data key (or its tombstone) per request.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=True),
        sa.Column("kek_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
