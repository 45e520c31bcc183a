"""Audit events form a hash chain per tenant; a head row per tenant orders the writers.

Each event gets ``seq`` (its position in the tenant's chain), ``prev_hash`` and ``hash``
(service/domain/audit_chain.py, hash version v1). Existing events are chained in the order
they happened (occurred_at, then id), so the trail is verifiable from its first event.
Downgrading drops the chain (the events themselves are kept).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.domain.audit_chain import GENESIS, extend
from service.domain.records import AuditEvent, Outcome

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Uuid()), sa.column("tenant_id", sa.Uuid()), sa.column("actor"),
    sa.column("action"), sa.column("object_type"), sa.column("object_id"),
    sa.column("outcome"), sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("detail"), sa.column("seq", sa.BigInteger()), sa.column("prev_hash"),
    sa.column("hash"),
)  # fmt: skip
_HEADS = sa.table(
    "audit_chain_heads",
    sa.column("tenant_id", sa.Uuid()), sa.column("seq", sa.BigInteger()), sa.column("hash"),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "audit_chain_heads",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    with op.batch_alter_table("audit_events") as table:
        table.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        table.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events") as table:
        table.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        table.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        table.alter_column("hash", existing_type=sa.String(64), nullable=False)
        table.create_unique_constraint("uq_audit_events_tenant_id_seq", ["tenant_id", "seq"])


def _chain_existing_events() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_EVENTS).order_by(_EVENTS.c.tenant_id, _EVENTS.c.occurred_at, _EVENTS.c.id)
    ).all()
    by_tenant: dict[uuid.UUID, list[AuditEvent]] = {}
    for r in rows:
        event = AuditEvent(
            r.id, r.tenant_id, r.actor, r.action, r.object_type, r.object_id,
            Outcome(r.outcome), r.occurred_at, r.detail,
        )  # fmt: skip
        by_tenant.setdefault(r.tenant_id, []).append(event)
    for tenant_id, events in by_tenant.items():
        links = extend(0, GENESIS, events)
        updates: list[dict[str, Any]] = [
            {"event_id": link.event.id, "seq": link.seq, "prev_hash": link.prev_hash,
             "hash": link.hash}
            for link in links
        ]  # fmt: skip
        bind.execute(
            _EVENTS.update()
            .where(_EVENTS.c.id == sa.bindparam("event_id"))
            .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"),
                    hash=sa.bindparam("hash")),
            updates,
        )  # fmt: skip
        bind.execute(
            _HEADS.insert().values(tenant_id=tenant_id, seq=links[-1].seq, hash=links[-1].hash)
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.drop_constraint("uq_audit_events_tenant_id_seq", type_="unique")
        table.drop_column("hash")
        table.drop_column("prev_hash")
        table.drop_column("seq")
    op.drop_table("audit_chain_heads")
