"""notify: the inbox:
rows kept in their page, uncompressed (`shared.migrations.keep_rows_inline`).

Rows stored before keep their form; PostgreSQL reads both.

Revision ID: 0004
Revises: 0003
"""

from shared.migrations import keep_rows_inline, toast_rows_again

revision = "0004"
down_revision = "0003"

TABLES = ("inbox",)


def upgrade() -> None:
    keep_rows_inline(*TABLES)


def downgrade() -> None:
    toast_rows_again(*TABLES)
