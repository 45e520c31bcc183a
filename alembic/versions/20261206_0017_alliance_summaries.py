"""Per-dyad summaries of client-minus-therapist differences, for calibration (issue 15).

A practitioner's calibration read every paired administration of every dyad of theirs
(seconds for 2,000 dyads). It now reads one summary row per dyad, kept up to date by the
writes (service.domain.calibration). This revision adds the tables; the summaries of
existing administrations are built at the next start (``rapport migrate`` or
``rapport serve``), which finds ``alliance_summary_state`` empty and rebuilds them with the
catalogue of that deployment (its extra instrument files included), in one transaction.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owned(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("dyad_id", sa.Uuid(), nullable=False),
        sa.Column("client_form", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(["dyad_id"], ["dyads.id"], name=op.f(f"fk_{table}_dyad_id_dyads")),
    ]


def upgrade() -> None:
    op.create_table(
        "alliance_pairs",
        *_owned("alliance_pairs"),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("difference", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dyad_id", "client_form", "session_number", name=op.f("pk_alliance_pairs")
        ),
    )
    op.create_table(
        "alliance_summaries",
        *_owned("alliance_summaries"),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("difference_sum", sa.Float(), nullable=False),
        sa.Column("squared_deviations", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("dyad_id", "client_form", name=op.f("pk_alliance_summaries")),
    )
    op.create_table(
        "alliance_summary_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forms_key", sa.Text(), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alliance_summary_state")),
    )


def downgrade() -> None:
    op.drop_table("alliance_summary_state")
    op.drop_table("alliance_summaries")
    op.drop_table("alliance_pairs")
