"""REST bodies for the audit trail. Events hold ids, actions and codes, never PHI."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from service.domain.audit_chain import ChainedEvent


class AuditEventOut(BaseModel):
    id: uuid.UUID
    actor: str = Field(description="The API key id, or 'cli' for administrative commands")
    action: str = Field(description="e.g. patient.create, dyad.read, or 'METHOD /route'")
    object_type: str
    object_id: str | None
    outcome: str = Field(
        description="success, denied, not-found, invalid, conflict, unauthenticated or error"
    )
    occurred_at: datetime
    detail: str | None = Field(description="An error code (and incident id), never values")
    seq: int = Field(description="Position in the tenant's hash chain, from 1")
    prev_hash: str = Field(description="The previous event's hash (64 zeros for the first)")
    hash: str = Field(description="SHA-256 over this event's content and prev_hash")

    @classmethod
    def of(cls, c: ChainedEvent) -> AuditEventOut:
        e = c.event
        return cls(
            id=e.id, actor=e.actor, action=e.action, object_type=e.object_type,
            object_id=e.object_id, outcome=e.outcome.value, occurred_at=e.occurred_at,
            detail=e.detail, seq=c.seq or 0, prev_hash=c.prev_hash or "", hash=c.hash or "",
        )  # fmt: skip


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
