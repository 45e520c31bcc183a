"""Shared pieces of the SQL layer: table handles, the tenant filter, pagination.

Every query on a tenant-owned table goes through ``owned``, which adds the tenant filter;
``tests/unit/test_tenant_scoping.py`` fails when a statement in this package selects from
such a table without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from service.store.engine import lone_statement
from service.store.prepared import Prepared, write_together
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
    """Base of the query groups: one open transaction's connection."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        # Writes whose results nobody reads (sessions, administrations, idempotency keys,
        # audit events, series summaries), sent together by ``flush``: before the unit of
        # work ends, before an immediate write (order is kept), and before reading back a
        # table they write (``dyad_context``, ``audit_events``).
        self._deferred: list[tuple[Prepared, Mapping[str, Any]]] = []

    def _later(self, prepared: Prepared, params: Mapping[str, Any]) -> None:
        self._deferred.append((prepared, params))

    def flush(self, last: bool = False) -> None:
        """Send the deferred writes: one statement on PostgreSQL. ``last``: nothing follows
        in this unit of work, so they need no transaction when none is open yet."""
        if self._deferred:
            writes, self._deferred = self._deferred, []
            with lone_statement(self._c) if last else nullcontext():
                write_together(self._c, writes)

    def _insert(self, table: Table) -> Any:
        """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share it)."""
        postgres = self._c.dialect.name == "postgresql"
        return (postgresql.insert if postgres else sqlite.insert)(table)
