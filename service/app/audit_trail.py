"""Reading and verifying a tenant's audit trail.

``verify`` walks each tenant's hash chain (service/domain/audit_chain.py) in pages, one
transaction per page, up to the head it read first: events appended while it runs lie past
that head and are left for the next run. ``page`` is what ``GET /v1/audit-events`` shows a
tenant holding the ``audit`` scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.app.access import read_page
from service.app.pagination import Page
from service.app.ports import Store, Transact
from service.domain import text
from service.domain.audit_chain import Break, ChainedEvent, ChainVerifier
from service.domain.errors import NotFound
from service.domain.records import Principal, Scope

VERIFY_PAGE = 5000


@dataclass(frozen=True, slots=True)
class Verdict:
    tenant: str
    events: int
    broken: Break | None


async def verify(transact: Transact, tenant_name: str | None = None) -> list[Verdict]:
    """One verdict per tenant (or the named one; ``NotFound`` when no tenant has it)."""

    def tenants_of(store: Store) -> dict[uuid.UUID, str]:
        if tenant_name is None:
            return store.tenant_names()
        tenant = store.tenant_by_name(tenant_name.strip())
        if tenant is None:
            raise NotFound(f"No tenant is named '{tenant_name}'.")
        return {tenant.id: tenant.name}

    found = await transact(tenants_of)
    verdicts = []
    for tenant_id, name in sorted(found.items(), key=lambda t: t[1]):
        verdicts.append(await _verify_one(transact, tenant_id, name))
    return verdicts


async def _verify_one(transact: Transact, tenant_id: uuid.UUID, name: str) -> Verdict:
    """Walk the chain to its end, then compare with the head. A head and the events it
    covers commit together, so a head read after the walk covers every row the walk saw:
    a head behind the walk means rows were forged past it; a head ahead of it means rows
    arrived meanwhile (walk on) or the newest rows were deleted (nothing more to read)."""
    checker = ChainVerifier()
    while True:
        rows = await transact(_chain_page(tenant_id, checker.seq))
        for row in rows:
            checker.feed(row)
        if checker.broken is not None:
            return Verdict(name, checker.count, checker.broken)
        if len(rows) == VERIFY_PAGE:
            continue
        head_seq, head_hash = await transact(lambda store: store.audit_chain_head(tenant_id))
        if head_seq > checker.seq:
            more = await transact(_chain_page(tenant_id, checker.seq))
            if more:  # appended while we walked
                continue
        return Verdict(name, checker.count, checker.finish(head_seq, head_hash))


def _chain_page(tenant_id: uuid.UUID, after: int) -> Callable[[Store], list[ChainedEvent]]:
    return lambda store: store.audit_chain(tenant_id, after, VERIFY_PAGE)


async def page(
    transact: Transact, principal: Principal, cursor: str | None, limit: int,
    object_type: str | None = None, object_id: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Page[ChainedEvent]:  # fmt: skip
    """The caller's tenant's events, oldest first (the read is itself audited)."""
    text.lookup("object_type", object_type, 32)
    text.lookup("object_id", object_id, 64)
    return await read_page(
        transact, principal, "audit-event",
        lambda store, after, n: store.audit_event_page(
            principal.tenant_id, after, n, object_type, object_id, since, until
        ),
        lambda e: e.event.id, cursor, limit, Scope.AUDIT,
    )  # fmt: skip
