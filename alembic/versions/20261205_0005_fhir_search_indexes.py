"""Indexes for FHIR search: administrations by time, per tenant and per dyad; dyads by patient.

``Observation?date=...&_sort=-date`` and ``QuestionnaireResponse?authored=...`` read a
tenant's administrations in time order, or one patient's (through the patient's dyads);
without these indexes both were a scan of the tenant's rows and a sort. The tenant leads each
index because every query filters on it (``owned``): with it, SQLite's planner, which has no
statistics, prefers the narrower index for a patient's records.

Revision ID: 0005_fhir
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_fhir"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_administrations_tenant_id_completed_at_id",
        "administrations",
        ["tenant_id", "completed_at", "id"],
    )
    op.create_index(
        "ix_administrations_tenant_id_dyad_id_completed_at_id",
        "administrations",
        ["tenant_id", "dyad_id", "completed_at", "id"],
    )
    op.create_index("ix_dyads_tenant_id_patient_id", "dyads", ["tenant_id", "patient_id"])


def downgrade() -> None:
    op.drop_index("ix_dyads_tenant_id_patient_id", table_name="dyads")
    op.drop_index(
        "ix_administrations_tenant_id_dyad_id_completed_at_id", table_name="administrations"
    )
    op.drop_index("ix_administrations_tenant_id_completed_at_id", table_name="administrations")
