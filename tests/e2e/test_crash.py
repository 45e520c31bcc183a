"""Crash safety: ``kill -9`` of a serving process loses no acknowledged write.

A real ``rapport serve`` is storing administrations from concurrent clients when it is
killed without warning (SIGKILL: no shutdown, no final commit, no close). Every
administration it answered 201 for must be in the database afterwards, read back by a new
process; the requests cut off may or may not have been stored, but never half (a stored
administration has its session and its audit event).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from service.store.engine import create_engine
from service.store.queries.base import administrations, audit_events
from tests.e2e.server import base_environment, free_port, running

PHQ9 = {str(i): 1 for i in range(1, 10)}


async def _store_until_killed(base: str, token: str, dyad: str, stop: float) -> list[str]:
    """Administrations answered 201, from 8 concurrent clients, until the server dies."""
    acknowledged: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client(worker: int) -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as http:
            session = worker * 100_000
            while time.monotonic() < stop:
                session += 1
                body = {"instrument": "phq-9", "session": session, "responses": PHQ9}
                try:
                    answer = await http.post(f"/v1/dyads/{dyad}/administrations", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])

    await asyncio.gather(*(client(w) for w in range(8)))
    return acknowledged


def test_kill_9_loses_no_acknowledged_administration(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = base_environment()
    env.update(RAPPORT_DATABASE_URL=database_url, RAPPORT_PORT=str(port))
    created = subprocess.run(
        ["rapport", "create-api-key", "--tenant", "crash clinic"],
        env=env, cwd=tmp_path, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    with running(["rapport", "serve", "--no-access-log"], env, tmp_path, port) as (server, base):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            patient = http.post("/v1/patients", json={"external_id": "crash-1"}).json()["id"]
            practitioner = http.post("/v1/practitioners", json={"external_id": "crash-p"})
            dyad = http.post(
                "/v1/dyads",
                json={"patient_id": patient, "practitioner_id": practitioner.json()["id"]},
            ).json()["id"]

        def kill_soon() -> None:
            time.sleep(1.5)
            server.send_signal(signal.SIGKILL)

        async def scenario() -> list[str]:
            killer = asyncio.get_running_loop().run_in_executor(None, kill_soon)
            stored = await _store_until_killed(base, token, dyad, time.monotonic() + 30)
            await killer
            return stored

        acknowledged = asyncio.run(scenario())
        assert server.wait(timeout=10) == -signal.SIGKILL
    assert len(acknowledged) > 10, "the server acknowledged too little to test anything"

    engine = create_engine(database_url)  # a new process's view of the database
    try:
        with engine.connect() as connection:
            a, e = administrations, audit_events
            stored = {
                str(i)
                for i in connection.execute(
                    select(a.c.id).where(a.c.dyad_id == uuid.UUID(dyad))
                ).scalars()
            }
            audited = set(
                connection.execute(
                    select(e.c.object_id).where(e.c.action == "administration.create")
                ).scalars()
            )
    finally:
        engine.dispose()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes were lost"
    assert stored <= audited  # nothing stored by halves: each with its audit event
