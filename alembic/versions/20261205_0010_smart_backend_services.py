"""SMART Backend Services: registered clients, the jti of each accepted client assertion
(replay protection across processes), and the short-lived access tokens issued to clients.

Revision ID: 0010
Revises: 0005_fhir
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0005_fhir"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smart_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("jwks", sa.Text(), nullable=False),
        sa.Column("jwks_url", sa.String(length=2000), nullable=True),
        sa.Column("scopes", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_smart_clients_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_clients")),
    )
    with op.batch_alter_table("smart_clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_smart_clients_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("granted", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["smart_clients.id"],
            name=op.f("fk_access_tokens_client_id_smart_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_access_tokens_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_access_tokens_prefix")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_tokens_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_tokens_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "client_assertions",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["smart_clients.id"],
            name=op.f("fk_client_assertions_client_id_smart_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_client_assertions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_client_assertions")),
    )
    with op.batch_alter_table("client_assertions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_assertions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("client_assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_assertions_expires_at"))

    op.drop_table("client_assertions")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_access_tokens_client_id"))

    op.drop_table("access_tokens")
    with op.batch_alter_table("smart_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_smart_clients_tenant_id"))

    op.drop_table("smart_clients")
