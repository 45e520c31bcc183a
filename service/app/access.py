"""The shape every audited read shares: check the scope, read in one transaction, record an
audit event, and audit a failure separately. Use cases state only what they read."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from service.app.audit import audited, record
from service.app.auth import require
from service.app.pagination import Page, paginate
from service.app.ports import Store, Transact
from service.domain.errors import NotFound
from service.domain.records import Principal, Scope

T = TypeVar("T")


async def read_one(
    transact: Transact, principal: Principal, kind: str, object_id: uuid.UUID,
    fetch: Callable[[Store], T | None],
) -> T:  # fmt: skip
    """One object of the caller's tenant, or NotFound (the same for another tenant's)."""
    action = f"{kind}.read"
    await require(transact, principal, Scope.READ, action)

    def work(store: Store) -> T:
        found = fetch(store)
        if found is None:
            raise NotFound(f"No {kind} {object_id}.")
        record(store, principal, action, kind, object_id)
        return found

    return await audited(transact, principal, action, kind, object_id, work, read_only=True)


async def read_page(
    transact: Transact, principal: Principal, kind: str,
    fetch: Callable[[Store, uuid.UUID | None, int], Sequence[T]], key: Callable[[T], uuid.UUID],
    cursor: str | None, limit: int, scope: Scope = Scope.READ,
) -> Page[T]:  # fmt: skip
    """One page of the caller's tenant's objects, oldest first."""
    action = f"{kind}.list"
    await require(transact, principal, scope, action)

    def work(store: Store) -> Page[T]:
        page = paginate(lambda after, n: fetch(store, after, n), cursor, limit, key)
        record(store, principal, action, kind, None)
        return page

    return await audited(transact, principal, action, kind, None, work, read_only=True)
