"""Series summaries: alert evaluation's running summary of each dyad's series of an
instrument (service.domain.series_summary). Derived data: the table starts empty and each
summary is built from the administrations the first time it is needed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series_summaries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("dyad_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("rules_key", sa.String(length=32), nullable=False),
        sa.Column("administrations", sa.Integer(), nullable=False),
        sa.Column("last_session", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dyad_id"], ["dyads.id"], name=op.f("fk_series_summaries_dyad_id_dyads")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_series_summaries_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("dyad_id", "instrument", name=op.f("pk_series_summaries")),
    )


def downgrade() -> None:
    op.drop_table("series_summaries")
