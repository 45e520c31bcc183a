"""Series summaries get a version: the id of the administration that last wrote the row.

A summary used to be checked against a count of its series' administrations on every
store, a read that grows with the series (on PostgreSQL each recent index entry costs a
heap visit). Now the writes keep it honest instead: a store that steps a summary replaces
it only if its version is still the one it read, and a store that does not step it (alerts
off) marks it stale; either way the version changes (service.domain.series_summary).
Summaries are derived data, so the existing ones are dropped and rebuilt on first use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM series_summaries")
    with op.batch_alter_table("series_summaries") as table:
        table.add_column(sa.Column("version", sa.Uuid(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM series_summaries")
    with op.batch_alter_table("series_summaries") as table:
        table.drop_column("version")
