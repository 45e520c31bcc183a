"""What the audit hash chain costs a request (issue 16, item 6).

Every audited request appends to its tenant's chain: one INSERT ... ON CONFLICT DO UPDATE
... RETURNING on the chain head (the lock), the event INSERT and the head UPDATE, instead
of the one event INSERT it used to cost. This measures a transaction that records one
event, chained (``store.record``) beside the same transaction inserting the same row
unchained (the baseline, measured in the same run), with ``--writers`` concurrent callers
of one tenant, on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/audit_chain.py [--events N] [--writers W] [--backends ...]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import backends
from sqlalchemy import insert

from service.app.audit import audit_event
from service.app.ports import Store
from service.domain.records import Outcome
from service.store.database import open_database
from service.store.engine import create_engine
from service.store.migrate import upgrade
from service.store.queries.base import audit_events
from service.store.runner import StoreTransact


async def _run(url: str, events: int, writers: int) -> dict[str, float]:
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    database = open_database(url)
    transact = StoreTransact(database)
    tenant = await transact(lambda s: s.ensure_tenant("bench", uuid.uuid4(), _now()))
    seq = iter(range(10**9, 2 * 10**9))  # the baseline's rows sit outside the chain

    def chained(store: Store) -> None:
        store.record(audit_event(tenant.id, "bench", "x.read", "x", "1", Outcome.SUCCESS))

    def plain(store: Store) -> None:
        e = audit_event(tenant.id, "bench", "x.read", "x", "1", Outcome.SUCCESS)
        store._c.execute(  # type: ignore[attr-defined]  # the unchained insert of main
            insert(audit_events).values(
                id=e.id, tenant_id=e.tenant_id, actor=e.actor, action=e.action,
                object_type=e.object_type, object_id=e.object_id, outcome=e.outcome.value,
                occurred_at=e.occurred_at, detail=None, seq=next(seq), prev_hash="", hash="",
            )
        )  # fmt: skip

    results = {}
    for name, work in (("unchained insert (baseline)", plain), ("chained record", chained)):
        await asyncio.gather(*(transact(work) for _ in range(writers)))  # warm up

        async def writer(n: int, work: object = work) -> None:
            for _ in range(n):
                await transact(work)  # type: ignore[arg-type]

        started = time.perf_counter()
        await asyncio.gather(*(writer(events // writers) for _ in range(writers)))
        results[name] = (time.perf_counter() - started) / events * 1e6
    database.close()
    return results


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-admin-url", default=backends.PG_ADMIN_URL)
    args = parser.parse_args()
    for backend in backends.parse_backends(args.backends, parser):
        with (
            tempfile.TemporaryDirectory() as tmp,
            backends.database(backend, Path(tmp), args.pg_admin_url) as url,
        ):
            r = asyncio.run(_run(url, args.events, args.writers))
        base, chained = r["unchained insert (baseline)"], r["chained record"]
        print(f"{backend}: {args.events} transactions recording one event, {args.writers} writers")
        for name, us in r.items():
            print(f"  {name:<28} {us:8.1f} us/transaction")
        print(f"  chained / baseline: {chained / base:.2f}x")


if __name__ == "__main__":
    main()
