"""routing: the event store and the outbox:
rows kept in their page, uncompressed (`shared.migrations.keep_rows_inline`).

Rows stored before keep their form; PostgreSQL reads both.

Revision ID: 0002
Revises: 0001
"""

from shared.migrations import keep_rows_inline, toast_rows_again

revision = "0002"
down_revision = "0001"

TABLES = ("events", "outbox")


def upgrade() -> None:
    keep_rows_inline(*TABLES)


def downgrade() -> None:
    toast_rows_again(*TABLES)
