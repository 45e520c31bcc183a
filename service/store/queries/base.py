"""Shared pieces of the SQL layer: table handles, the tenant filter, pagination.

Every query on a tenant-owned table goes through ``owned``, which adds the tenant filter;
``tests/unit/test_tenant_scoping.py`` fails when a statement in this package selects from
such a table without it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from service.store.tables import (
    AdministrationTable,
    AlertTable,
    ApiKeyTable,
    AuditEventTable,
    DyadTable,
    IdempotencyKeyTable,
    PatientTable,
    PractitionerTable,
    SeriesSummaryTable,
    SessionTable,
    TenantTable,
)

patients: Table = PatientTable.__table__  # type: ignore[assignment]
practitioners: Table = PractitionerTable.__table__  # type: ignore[assignment]
dyads: Table = DyadTable.__table__  # type: ignore[assignment]
sessions: Table = SessionTable.__table__  # type: ignore[assignment]
administrations: Table = AdministrationTable.__table__  # type: ignore[assignment]
audit_events: Table = AuditEventTable.__table__  # type: ignore[assignment]
idempotency_keys: Table = IdempotencyKeyTable.__table__  # type: ignore[assignment]
tenants: Table = TenantTable.__table__  # type: ignore[assignment]
api_keys: Table = ApiKeyTable.__table__  # type: ignore[assignment]
alerts: Table = AlertTable.__table__  # type: ignore[assignment]
series_summaries: Table = SeriesSummaryTable.__table__  # type: ignore[assignment]


def owned(table: Table, tenant_id: uuid.UUID | BindParameter[Any]) -> Select[Any]:
    """SELECT from a tenant-owned table, restricted to one tenant: the only way to read one."""
    return select(table).where(table.c.tenant_id == tenant_id)


def page(query: Select[Any], table: Table, after: uuid.UUID | None, limit: int) -> Select[Any]:
    if after is not None:
        query = query.where(table.c.id > after)
    return query.order_by(table.c.id).limit(limit)


class Queries:
    """Base of the query groups: one open transaction's connection. Every method runs its
    statements when called, through ``Connection.execute`` (SQLAlchemy caches the compiled
    form of each statement)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _insert(self, table: Table) -> Any:
        """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share it)."""
        postgres = self._c.dialect.name == "postgresql"
        return (postgresql.insert if postgres else sqlite.insert)(table)
