"""tracking: the principals' rate allowances, shared by every instance of the service
(`shared.rate_allowance`, `shared.migrations.create_rate_allowances`).

Revision ID: 0005_rate_allowances
Revises: 0004_inline_rows
"""

from shared.migrations import create_rate_allowances, drop_rate_allowances

revision = "0005_rate_allowances"
down_revision = "0004_inline_rows"


def upgrade() -> None:
    create_rate_allowances()


def downgrade() -> None:
    drop_rate_allowances()
