"""The audit trail's hash chain: each event seals its content and the previous event's hash.

One chain per tenant. Event ``n`` (``seq`` 1, 2, ...) stores ``prev_hash`` (event ``n-1``'s
hash, or ``GENESIS`` for the first) and ``hash = SHA-256(prev_hash:seq:SHA-256(canonical
JSON of the event's fields))``.
Changing, deleting or inserting a row behind the service's back breaks a link that
``verify`` reports: a changed row no longer matches its hash, a deleted row leaves a gap in
``seq`` and a ``prev_hash`` that names nothing, an inserted row has no valid place. The
tenant's chain head (last ``seq`` and hash, kept in its own row) also catches deleting the
newest events. What the chain cannot catch is an attacker who rewrites every hash from the
tampered row onward and the head with it: anchoring the head outside the database (a
periodic copy elsewhere) closes that, and is an operator's choice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from service.domain.records import AuditEvent

GENESIS = "0" * 64
HASH_VERSION = "v1"


def canonical_time(when: datetime) -> str:
    """The instant as UTC microseconds: what both engines store and give back."""
    if when.tzinfo is None:  # SQLite hands back naive UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def content_digest(event: AuditEvent) -> str:
    """SHA-256 over a canonical JSON of every stored field of the event itself."""
    content = [
        HASH_VERSION, str(event.tenant_id), str(event.id), event.actor, event.action,
        event.object_type, event.object_id, str(event.outcome),
        canonical_time(event.occurred_at), event.detail,
    ]  # fmt: skip
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def event_hash(event: AuditEvent, seq: int, prev_hash: str) -> str:
    """SHA-256 of ``prev_hash:seq:content_digest``. The link is plain text over the digest
    so that a database could compute it too (PostgreSQL's ``sha256``), should the append
    ever be folded into one statement."""
    link = f"{prev_hash}:{seq}:{content_digest(event)}"
    return hashlib.sha256(link.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    event: AuditEvent
    seq: int | None
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """One event as the chain will store it."""

    event: AuditEvent
    seq: int
    prev_hash: str
    hash: str


def extend(head_seq: int, head_hash: str, events: Iterable[AuditEvent]) -> list[Link]:
    """Chain ``events`` after the head (seq, hash) in the order given."""
    links = []
    seq, prev = head_seq, head_hash
    for event in events:
        seq += 1
        digest = event_hash(event, seq, prev)
        links.append(Link(event, seq, prev, digest))
        prev = digest
    return links


@dataclass(frozen=True, slots=True)
class Break:
    """The first broken link of a tenant's chain."""

    seq: int | None
    event_id: uuid.UUID | None
    reason: str

    def describe(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "an unsequenced row"
        ident = f" (event {self.event_id})" if self.event_id is not None else ""
        return f"{where}{ident}: {self.reason}"


class ChainVerifier:
    """Feed a tenant's events in ``seq`` order (unsequenced rows first); ``finish`` with the
    stored head. The first break is kept; later ones follow from it."""

    def __init__(self) -> None:
        self.seq = 0
        self.hash = GENESIS
        self.count = 0
        self.broken: Break | None = None

    def feed(self, row: ChainedEvent) -> None:
        if self.broken is not None:
            return
        self.count += 1
        e = row.event
        if row.seq is None or row.hash is None or row.prev_hash is None:
            self.broken = Break(row.seq, e.id, "row carries no chain position or hash "
                                "(inserted behind the service's back)")  # fmt: skip
        elif row.seq != self.seq + 1:
            reason = (
                f"expected seq {self.seq + 1}: events are missing (deleted)"
                if row.seq > self.seq + 1
                else "seq repeats: a row was inserted behind the service's back"
            )
            self.broken = Break(row.seq, e.id, reason)
        elif row.prev_hash != self.hash:
            self.broken = Break(row.seq, e.id, "prev_hash does not match the previous event")
        elif event_hash(e, row.seq, row.prev_hash) != row.hash:
            self.broken = Break(row.seq, e.id, "content does not match its hash (modified)")
        else:
            self.seq, self.hash = row.seq, row.hash

    def finish(self, head_seq: int, head_hash: str) -> Break | None:
        if self.broken is None and (head_seq, head_hash) != (self.seq, self.hash):
            if head_seq > self.seq:
                reason = (
                    f"the chain head records seq {head_seq} but the trail ends at seq "
                    f"{self.seq}: the newest events were deleted"
                )
            elif head_seq < self.seq:
                reason = (
                    f"the trail runs to seq {self.seq}, past the chain head at seq {head_seq}: "
                    "rows were inserted behind the service's back"
                )
            else:
                reason = "the chain head does not match the last event (head or trail altered)"
            self.broken = Break(self.seq + 1 if head_seq > self.seq else head_seq, None, reason)
        return self.broken
