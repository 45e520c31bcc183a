"""Audit events: every access to patient data, recorded with its outcome.

Successful operations record their event inside the same transaction as the change, so an
event exists exactly when the change does. A refused or failed operation records its event
in a transaction of its own, after the failed one rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from service.app.ports import Store, Transact
from service.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from service.domain.ids import new_id
from service.domain.records import AuditEvent, Outcome, Principal

T = TypeVar("T")

_OUTCOMES: tuple[tuple[type[DomainError], Outcome], ...] = (
    (NotFound, Outcome.NOT_FOUND),
    (Forbidden, Outcome.DENIED),
    (ValidationFailed, Outcome.INVALID),
    (Conflict, Outcome.CONFLICT),
)


def audit_event(
    tenant_id: uuid.UUID, actor: str, action: str, object_type: str, object_id: str | None,
    outcome: Outcome, detail: str | None = None,
) -> AuditEvent:  # fmt: skip
    return AuditEvent(
        new_id(), tenant_id, actor, action, object_type, object_id, outcome,
        datetime.now(UTC), detail,
    )  # fmt: skip


def record(
    store: Store, principal: Principal, action: str, object_type: str, object_id: object
) -> None:
    """Record a successful access inside the current transaction."""
    store.record(
        audit_event(
            principal.tenant_id, principal.actor, action, object_type,
            None if object_id is None else str(object_id), Outcome.SUCCESS,
        )
    )  # fmt: skip


async def audited(
    transact: Transact, principal: Principal, action: str, object_type: str,
    object_id: object, work: Callable[[Store], T], *, read_only: bool = False,
) -> T:  # fmt: skip
    """Run ``work``; if it fails with an expected error, audit the failure, then re-raise.
    ``read_only``: see ``Transact``."""
    try:
        return await transact(work, read_only=read_only)
    except DomainError as error:
        await refused(transact, principal, action, object_type, object_id, error)
        raise


async def refused(
    transact: Transact, principal: Principal, action: str, object_type: str,
    object_id: object, error: DomainError,
) -> None:  # fmt: skip
    """Audit an expected refusal in a transaction of its own, and mark the error audited so
    no adapter records it again. Errors without an audited outcome are left alone."""
    outcome = next((o for kind, o in _OUTCOMES if isinstance(error, kind)), None)
    if outcome is None:
        return
    event = audit_event(
        principal.tenant_id, principal.actor, action, object_type,
        None if object_id is None else str(object_id), outcome, error.code,
    )  # fmt: skip
    await transact(lambda store: store.record(event))
    error.audited = True
