"""tracking: the request views and the archive:
rows kept in their page, uncompressed (`shared.migrations.keep_rows_inline`).

Rows stored before keep their form; PostgreSQL reads both.

Revision ID: 0004_inline_rows
Revises: 0003_request_authority
"""

from shared.migrations import keep_rows_inline, toast_rows_again

revision = "0004_inline_rows"
down_revision = "0003_request_authority"

TABLES = ("requests", "archive")


def upgrade() -> None:
    keep_rows_inline(*TABLES)


def downgrade() -> None:
    toast_rows_again(*TABLES)
