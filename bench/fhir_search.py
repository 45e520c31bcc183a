"""FHIR search on a seeded clinic: does a page cost the same at any depth, and for a patient?

Seeds, on a fresh SQLite database (and PostgreSQL with ``--backends sqlite,postgres``),
directly through the repository layer, ``--dyads`` (200) patients each with ``--sessions``
(50) PHQ-9 administrations a week apart (10,000 rows), then times in-process (the ASGI app
through ``httpx.ASGITransport``, sequential requests, median of ``--rounds``):

* ``GET /fhir/R4/Observation?_count=50&_sort=-date``: the first page of the tenant's scores;
* the same search's page 100 (reached by following next links once, then timed);
* ``GET /fhir/R4/Observation?patient=Patient/{id}&_sort=-date``: one patient's 50 scores;
* baseline in the same run: ``GET /v1/dyads/{id}/administrations?limit=50`` (REST's page
  of the same 50 rows).

Prints each median and its ratio to the baseline. Nothing is asserted.

Run: ``.venv/bin/python bench/fhir_search.py [--backends sqlite] [--rounds 30]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import backends as db
import httpx

from service.api.app import create_app
from service.app.auth import issue_api_key
from service.app.ports import Store
from service.app.rendering import score_dict
from service.domain.ids import new_id
from service.domain.records import Administration, Dyad, Patient, Practitioner, Scope
from service.settings import Settings
from service.store import migrate
from service.store.engine import create_engine

START = datetime(2025, 1, 6, 9, tzinfo=UTC)


def _seed(store: Store, tenant_id: uuid.UUID, n: int, sessions: int, score: Any) -> Any:
    """One patient, practitioner and dyad with ``sessions`` weekly PHQ-9s."""
    now = datetime.now(UTC)
    patient = Patient(new_id(), tenant_id, f"MRN-{n}", None, now)
    practitioner = Practitioner(new_id(), tenant_id, f"NPI-{n}", None, now)
    dyad = Dyad(new_id(), tenant_id, patient.id, practitioner.id, None, None, now)
    store.add_patient(patient)
    store.add_practitioner(practitioner)
    store.add_dyad(dyad)
    for s in range(1, sessions + 1):
        when = START + timedelta(days=7 * s, minutes=n)
        administration = Administration(
            new_id(), tenant_id, dyad.id, s, "phq-9", "1.0.0", score[0], when,
            score[1], score[2], now,
        )  # fmt: skip
        store.add_administration(administration, store.ensure_session(tenant_id, dyad.id, s, now))
    return patient, dyad


async def _median(client: httpx.AsyncClient, url: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = await client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text
    return statistics.median(times) * 1000


async def run(url: str, dyads: int, sessions: int, rounds: int) -> None:
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        services = app.state.services
        token = await issue_api_key(services.transact, "bench", frozenset(Scope))
        tenant = await services.transact(lambda store: store.tenant_by_name("bench"))
        definition = services.instruments.get("phq-9")
        responses = {str(i): i % 4 for i in range(1, 10)}
        scored = score_dict(services.instruments.score("phq-9", responses, None))
        shape = (definition.respondent, responses, scored)
        made = [
            await services.transact(
                lambda store, n=n: _seed(store, tenant.id, n, sessions, shape)  # type: ignore[misc]
            )
            for n in range(dyads)
        ]
        if url.startswith("postgresql"):  # what autovacuum does after a bulk load
            analyze = create_engine(url)
            with analyze.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
            analyze.dispose()
        patient, dyad = made[dyads // 2]
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            first = "/fhir/R4/Observation?_count=50&_sort=-date"
            deep = first
            for _ in range(99):
                body = (await client.get(deep)).json()
                deep = next(k["url"] for k in body["link"] if k["relation"] == "next")
            cases = {
                "REST page of a dyad (baseline)": f"/v1/dyads/{dyad.id}/administrations?limit=50",
                "Observation search, page 1": first,
                "Observation search, page 100": deep,
                "Observation search, one patient": (
                    f"/fhir/R4/Observation?patient=Patient/{patient.id}&_sort=-date"
                ),
            }
            medians = {name: await _median(client, path, rounds) for name, path in cases.items()}
    base = medians["REST page of a dyad (baseline)"]
    print(f"{dyads * sessions} administrations, {rounds} rounds, 50 per page ({url.split(':')[0]})")
    for name, ms in medians.items():
        print(f"  {name:34s} {ms:7.1f} ms  x{ms / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--dyads", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as where, db.database(backend, Path(where)) as url:
            asyncio.run(run(url, args.dyads, args.sessions, args.rounds))


if __name__ == "__main__":
    main()
