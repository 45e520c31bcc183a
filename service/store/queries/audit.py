"""Idempotency keys and audit events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert

from service.domain.records import AuditEvent
from service.store.queries.audit_trail import AuditTrailQueries
from service.store.queries.base import audit_events, idempotency_keys, owned


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: dict[str, Any]


_K = idempotency_keys


class AuditQueries(AuditTrailQueries):
    # Idempotency and audit -----------------------------------------------------------------

    def stored_response(self, tenant_id: uuid.UUID, key: str) -> StoredResponse | None:
        query = (
            owned(_K, tenant_id)
            .with_only_columns(_K.c.request_hash, _K.c.status_code, _K.c.response)
            .where(_K.c.key == key)
        )
        found = self._c.execute(query).first()
        return None if found is None else StoredResponse(*found)

    def store_response(
        self, tenant_id: uuid.UUID, key: str, request_hash: str, status_code: int,
        body: dict[str, Any], now: datetime,
    ) -> None:  # fmt: skip
        """Claims the key (a concurrent second claim of the same key fails its transaction
        on the primary key, which the use case answers by replaying the first)."""
        self._c.execute(
            insert(idempotency_keys),
            {"tenant_id": tenant_id, "key": key, "request_hash": request_hash,
             "status_code": status_code, "response": body, "created_at": now},
        )  # fmt: skip

    # Audit events are links of the tenant's hash chain (issue 16, item 6), appended under
    # the chain head's lock when the unit of work ends (service/store/queries/audit_trail.py).
    def record_many(self, events: Sequence[AuditEvent]) -> None:
        """Several events at once (a batched read audits every object it read)."""
        if events:
            self.append_audit_events(events)

    def record(self, event: AuditEvent) -> None:
        self.append_audit_events((event,))

    def audit_events(self, tenant_id: uuid.UUID, limit: int = 1000) -> Sequence[Row[Any]]:
        self.chain_audit_events()
        query = owned(audit_events, tenant_id).order_by(audit_events.c.seq).limit(limit)
        return self._c.execute(query).all()
