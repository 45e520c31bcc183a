"""The audit trail's hash chain in SQL: append under the tenant's head-row lock, read back.

Appending locks the tenant's chain head with one statement (INSERT ... ON CONFLICT DO
UPDATE ... RETURNING: on PostgreSQL the row lock is held to the end of the transaction, so
concurrent writers and processes append one after another; on SQLite the single writer
already serialises them), links the events after it, inserts them and moves the head.

The lock orders every audited transaction of a tenant, so it is taken as late as possible:
events recorded during a unit of work wait in memory and are chained when the unit of work
ends (``StoreTransact`` calls ``chain_audit_events`` after its other writes, just before
the commit), or before the trail is read back. Taking it last also keeps it out of
deadlocks: a transaction holding the head waits for no other row. Plain SQLAlchemy Core on
``self._c``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.domain.audit_chain import GENESIS, ChainedEvent, extend
from service.domain.records import AuditEvent, Outcome
from service.store.queries.base import Queries, audit_events, owned, tenants
from service.store.tables import AuditChainHeadTable

chain_heads: Table = AuditChainHeadTable.__table__  # type: ignore[assignment]
_E = audit_events


def _lock_head(dialect_insert: Any) -> Any:
    """Create the head if new, lock it (the row lock lasts to the commit), return it."""
    return (
        dialect_insert(chain_heads)
        .values(tenant_id=bindparam("t"), seq=0, hash=GENESIS)
        .on_conflict_do_update(
            index_elements=[chain_heads.c.tenant_id], set_={"seq": chain_heads.c.seq}
        )
        .returning(chain_heads.c.seq, chain_heads.c.hash)
    )


# Built once: these run on every audited request.
_LOCK_HEAD = {False: _lock_head(sqlite.insert), True: _lock_head(postgresql.insert)}
_INSERT_EVENT = insert(_E)
_MOVE_HEAD = (
    update(chain_heads)
    .where(chain_heads.c.tenant_id == bindparam("t"))
    .values(seq=bindparam("s"), hash=bindparam("h"))
)


class AuditTrailQueries(Queries):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._unchained: list[AuditEvent] = []

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """Queue ``events`` for the chain; they are appended when the unit of work ends."""
        self._unchained.extend(events)

    def chain_audit_events(self) -> None:
        """Chain the queued events (of one tenant or several) after their tenants' heads.

        Called last in a unit of work: its other writes are done, so a transaction holding
        a head never waits for a row another one holds (no deadlock), and the lock is held
        only through the commit."""
        if not self._unchained:
            return
        events, self._unchained = self._unchained, []
        by_tenant: dict[uuid.UUID, list[AuditEvent]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        for tenant_id in sorted(by_tenant):  # a fixed lock order: no deadlock between batches
            self._append(tenant_id, by_tenant[tenant_id])

    def _append(self, tenant_id: uuid.UUID, events: list[AuditEvent]) -> None:
        lock = _LOCK_HEAD[self._c.dialect.name == "postgresql"]
        head_seq, head_hash = self._c.execute(lock, {"t": tenant_id}).one()
        links = extend(head_seq, head_hash, events)
        self._c.execute(
            _INSERT_EVENT,
            [_event_row(link.event) | {"seq": link.seq, "prev_hash": link.prev_hash,
                                       "hash": link.hash} for link in links],
        )  # fmt: skip
        self._c.execute(_MOVE_HEAD, {"t": tenant_id, "s": links[-1].seq, "h": links[-1].hash})

    def audit_chain_head(self, tenant_id: uuid.UUID) -> tuple[int, str]:
        """(seq, hash) of the tenant's newest link; (0, GENESIS) before the first event."""
        row = self._c.execute(
            owned(chain_heads, tenant_id).with_only_columns(chain_heads.c.seq, chain_heads.c.hash)
        ).first()
        return (0, GENESIS) if row is None else (row.seq, row.hash)

    def audit_chain(self, tenant_id: uuid.UUID, after_seq: int, limit: int) -> list[ChainedEvent]:
        """Links in ``seq`` order after ``after_seq``; rows with no ``seq`` come first
        (``after_seq`` < 1), so a forged row is reported at once."""
        query = owned(_E, tenant_id)
        if after_seq >= 1:
            query = query.where(_E.c.seq > after_seq)
        query = query.order_by(_E.c.seq.is_not(None), _E.c.seq, _E.c.id).limit(limit)
        return [_chained(r) for r in self._c.execute(query)]

    def audit_event_page(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        object_type: str | None = None, object_id: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[ChainedEvent]:  # fmt: skip
        """The tenant's events oldest first (ids are time-ordered), filtered."""
        self.chain_audit_events()
        query = owned(_E, tenant_id)
        if object_type is not None:
            query = query.where(_E.c.object_type == object_type)
        if object_id is not None:
            query = query.where(_E.c.object_id == object_id)
        if since is not None:
            query = query.where(_E.c.occurred_at >= since)
        if until is not None:
            query = query.where(_E.c.occurred_at < until)
        if after is not None:
            query = query.where(_E.c.id > after)
        return [_chained(r) for r in self._c.execute(query.order_by(_E.c.id).limit(limit))]

    def tenant_names(self) -> dict[uuid.UUID, str]:
        """Every tenant, for verifying all chains (an operator's command, not a request)."""
        return {r.id: r.name for r in self._c.execute(select(tenants.c.id, tenants.c.name))}


def _event_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id, "tenant_id": event.tenant_id, "actor": event.actor,
        "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
        "outcome": event.outcome.value, "occurred_at": event.occurred_at, "detail": event.detail,
    }  # fmt: skip


def _chained(r: Row[Any]) -> ChainedEvent:
    event = AuditEvent(
        r.id, r.tenant_id, r.actor, r.action, r.object_type, r.object_id,
        _outcome(r.outcome), r.occurred_at, r.detail,
    )  # fmt: skip
    return ChainedEvent(event, r.seq, r.prev_hash, r.hash)


def _outcome(value: str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:  # a forged row: keep it, verification reports its hash mismatch
        return Outcome.ERROR
