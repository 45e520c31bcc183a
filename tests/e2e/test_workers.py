"""Several server processes on one PostgreSQL database hold what must be shared.

Two real servers on one database: ``rapport serve --workers 2`` (two uvicorn worker
processes behind one port) and a second ``rapport serve`` on another port. Concurrent retries
of one Idempotency-Key spread over both store one row; one alert condition reached through
both raises one alert; a revoked key stops working in both within the documented delay
(``RAPPORT_API_KEY_CACHE_SECONDS``, 1 s here). On SQLite, more than one worker is refused.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import VENV_BIN, base_environment, free_port, running

CACHE_SECONDS = 1.0


def _rapport(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [f"{VENV_BIN}/rapport", *args], env=env, cwd=cwd, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def two_servers(
    postgres_database: str, tmp_path: Path
) -> Iterator[tuple[list[str], dict[str, str]]]:
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": postgres_database,
        "RAPPORT_API_KEY_CACHE_SECONDS": str(CACHE_SECONDS),
    }
    with ExitStack() as stack:
        bases = []
        for index, workers in enumerate(("2", "1")):
            port = free_port()
            cwd = tmp_path / f"server{index}"
            cwd.mkdir()
            command = [f"{VENV_BIN}/rapport", "serve", "--port", str(port), "--workers", workers]
            _process, base = stack.enter_context(running(command, env, cwd, port))
            bases.append(base)
        yield bases, env


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _dyad(http: httpx.Client) -> str:
    patient = http.post(
        "/v1/patients", json={"external_id": uuid.uuid4().hex, "population": "adult"}
    )
    practitioner = http.post("/v1/practitioners", json={"external_id": uuid.uuid4().hex})
    dyad = http.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    assert dyad.status_code == 201, dyad.text
    dyad_id: str = dyad.json()["id"]
    return dyad_id


def _phq9(session: int, value: int) -> dict[str, object]:
    answers = {str(i): value for i in range(1, 9)} | {"9": 0}  # no risk item: no risk alert
    return {"instrument": "phq-9", "session": session, "responses": answers}


def _stored(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "rapport_administrations_stored_total":
                return sample.value
    return 0.0


def test_what_must_be_shared_holds_across_processes(
    two_servers: tuple[list[str], dict[str, str]], tmp_path: Path
) -> None:
    bases, env = two_servers
    token = _rapport(env, tmp_path, "create-api-key", "--tenant", "Two Servers")
    clients = [_client(base, token) for base in bases]
    try:
        dyad = _dyad(clients[0])

        # Concurrent retries of one Idempotency-Key, spread over both servers: one row.
        key = {"Idempotency-Key": uuid.uuid4().hex}
        path = f"/v1/dyads/{dyad}/administrations"

        def retry(index: int) -> httpx.Response:
            return clients[index % 2].post(path, json=_phq9(1, 0), headers=key)

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(retry, range(32)))
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers}) == 1
        listed = clients[1].get(path).json()["items"]
        assert len(listed) == 1
        assert _stored(bases[0]) + _stored(bases[1]) == 1  # the workers' metrics are summed

        # One alert condition (reliable deterioration since session 1) reached through both
        # servers at once: one alert.
        dyads = [dyad] + [_dyad(clients[0]) for _ in range(4)]
        for other in dyads[1:]:
            assert (
                clients[0].post(f"/v1/dyads/{other}/administrations", json=_phq9(1, 0)).is_success
            )

        def worsen(job: tuple[str, int]) -> int:
            dyad_id, session = job
            client = clients[session % 2]
            return client.post(
                f"/v1/dyads/{dyad_id}/administrations", json=_phq9(session, 3)
            ).status_code

        jobs = [(d, s) for d in dyads for s in (2, 3)]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            assert set(pool.map(worsen, jobs)) == {201}
        for dyad_id in dyads:
            alerts = clients[0].get("/v1/alerts", params={"dyad_id": dyad_id}).json()["items"]
            kinds = [alert["kind"] for alert in alerts]
            assert kinds.count("deterioration") == 1, kinds

        # A revoked key stops working in both servers within the cache's time.
        assert all(c.get("/v1/patients").status_code == 200 for c in clients)  # cached now
        _rapport(env, tmp_path, "revoke-api-key", token)
        revoked_at = time.monotonic()
        refused: dict[int, float] = {}
        while len(refused) < len(clients) and time.monotonic() - revoked_at < CACHE_SECONDS + 5:
            for index, client in enumerate(clients):
                # Several requests: on the --workers 2 server they reach both processes.
                if index not in refused and all(
                    client.get("/v1/patients").status_code == 401 for _ in range(6)
                ):
                    refused[index] = time.monotonic() - revoked_at
            time.sleep(0.1)
        assert sorted(refused) == [0, 1], refused
        assert max(refused.values()) <= CACHE_SECONDS + 1.5, refused
    finally:
        for client in clients:
            client.close()


def test_sqlite_refuses_more_than_one_worker(tmp_path: Path) -> None:
    env = base_environment() | {"RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    done = subprocess.run(
        [f"{VENV_BIN}/rapport", "serve", "--workers", "2", "--port", str(free_port())],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr
    assert "one writer" in done.stderr
    assert not (tmp_path / "r.db").exists()  # refused before touching the database
