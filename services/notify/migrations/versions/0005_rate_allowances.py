"""notify: the principals' rate allowances, shared by every instance of the service
(`shared.rate_allowance`, `shared.migrations.create_rate_allowances`).

Revision ID: 0005
Revises: 0004
"""

from shared.migrations import create_rate_allowances, drop_rate_allowances

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_rate_allowances()


def downgrade() -> None:
    drop_rate_allowances()
