"""The audit hash chain, pure: links, and the first broken link a verifier reports."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime

from service.domain.audit_chain import (
    GENESIS,
    ChainedEvent,
    ChainVerifier,
    content_digest,
    event_hash,
    extend,
)
from service.domain.records import AuditEvent, Outcome

TENANT = uuid.UUID("01a24891-3ed3-7276-9b5f-1f9cbc885ad5")
WHEN = datetime(2026, 12, 5, 23, 0, 0, 123456, tzinfo=UTC)


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        uuid.UUID(int=n), TENANT, "key", "patient.read", "patient", str(n), Outcome.SUCCESS, WHEN
    )


def _chain(n: int) -> list[ChainedEvent]:
    return [
        ChainedEvent(x.event, x.seq, x.prev_hash, x.hash)
        for x in extend(0, GENESIS, map(_event, range(1, n + 1)))
    ]


def _verify(rows: list[ChainedEvent], head: tuple[int, str]) -> str | None:
    v = ChainVerifier()
    for row in rows:
        v.feed(row)
    broken = v.finish(*head)
    return None if broken is None else broken.describe()


def test_the_link_formula_is_pinned() -> None:
    """Stored hashes outlive the code: the formula may not drift (a new one needs a new
    HASH_VERSION and a migration)."""
    e = _event(1)
    link = f"{GENESIS}:1:{content_digest(e)}"
    assert event_hash(e, 1, GENESIS) == hashlib.sha256(link.encode()).hexdigest()
    assert content_digest(e) == content_digest(dataclasses.replace(e))
    assert content_digest(e) != content_digest(dataclasses.replace(e, outcome=Outcome.DENIED))
    naive = dataclasses.replace(e, occurred_at=WHEN.replace(tzinfo=None))  # SQLite's reading
    assert content_digest(naive) == content_digest(e)


def test_an_intact_chain_verifies() -> None:
    rows = _chain(5)
    assert _verify(rows, (5, rows[-1].hash or "")) is None
    assert _verify([], (0, GENESIS)) is None


def test_each_kind_of_tampering_is_the_first_break() -> None:
    rows = _chain(5)
    head = (5, rows[-1].hash or "")
    changed = list(rows)
    changed[2] = dataclasses.replace(rows[2], event=dataclasses.replace(rows[2].event, detail="x"))
    assert "seq 3" in (_verify(changed, head) or "")
    assert "modified" in (_verify(changed, head) or "")
    gap = rows[:2] + rows[3:]
    assert "events are missing" in (_verify(gap, head) or "")
    assert "newest events were deleted" in (_verify(rows[:4], head) or "")
    again = [*rows[:3], rows[2], *rows[3:]]
    assert "seq repeats" in (_verify(again, head) or "")
    assert "past the chain head" in (_verify(rows, (4, rows[3].hash or "")) or "")
