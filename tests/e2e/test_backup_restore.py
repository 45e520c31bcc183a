"""``rapport backup`` copies a live SQLite database while a real server stores administrations,
and ``rapport restore`` puts the copy back: every administration acknowledged before the
backup began is in the restored database, each with its audit event."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.server import VENV_BIN, base_environment, free_port, running

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
PHQ9 = {str(i): (i % 4) for i in range(1, 10)}


def _rapport(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [f"{VENV_BIN}/rapport", *args], env=env, cwd=cwd, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip


class Load:
    """Writers that store administrations until stopped, noting when each was acknowledged."""

    def __init__(self, base: str, auth: dict[str, str], dyads: list[str]) -> None:
        self.acknowledged: list[tuple[float, str]] = []  # (monotonic time of the 201, id)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._write, args=(base, auth, dyad)) for dyad in dyads
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def _write(self, base: str, auth: dict[str, str], dyad: str) -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
            session = 0
            while not self._stop.is_set():
                session += 1
                response = client.post(
                    f"/v1/dyads/{dyad}/administrations",
                    json={"instrument": "phq-9", "session": session, "responses": PHQ9},
                )
                if response.status_code != 201:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                with self._lock:
                    self.acknowledged.append((time.monotonic(), response.json()["id"]))


def _create(client: httpx.Client, path: str, body: dict[str, str]) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


def _rows(database: Path, sql: str) -> list[tuple[str, ...]]:
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def test_a_backup_under_write_load_restores_every_acknowledged_write(tmp_path: Path) -> None:
    live, copy, fresh = tmp_path / "live.db", tmp_path / "backup.db", tmp_path / "fresh.db"
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{live}",
        "RAPPORT_PORT": str(port),
        "RAPPORT_LOG_LEVEL": "warning",
    }
    created = _rapport("create-api-key", "--tenant", "Backup Clinic", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}

    server = [f"{VENV_BIN}/rapport", "serve", "--no-migrate", "--no-access-log"]
    with running(server, env, tmp_path, port) as (_process, base):
        with httpx.Client(base_url=base, headers=auth) as client:
            practitioner = _create(client, "/v1/practitioners", {"external_id": "NPI-1"})
            dyads = []
            for n in range(WRITERS):
                patient = _create(client, "/v1/patients", {"external_id": f"MRN-{n}"})
                dyads.append(
                    _create(
                        client, "/v1/dyads",
                        {"patient_id": patient, "practitioner_id": practitioner},
                    )
                )  # fmt: skip
        with Load(base, auth, dyads) as load:
            while load.count() < 50 and not load.failures:
                time.sleep(0.05)
            began = time.monotonic()
            backup = _rapport("backup", "--output", str(copy), env=env, cwd=tmp_path)
            ended = time.monotonic()
            time.sleep(0.3)
            # The server has the database open: restoring over it is refused.
            refused = _rapport("restore", str(copy), env=env, cwd=tmp_path)
        assert load.failures == []
        assert backup.returncode == 0, backup.stderr
        assert refused.returncode == 1
        assert "in use" in refused.stderr
        assert "--force" in refused.stderr
        assert httpx.get(f"{base}/readyz").status_code == 200  # the refusal changed nothing

    before = {identifier for at, identifier in load.acknowledged if at < began}
    after_end = {identifier for at, identifier in load.acknowledged if at > ended}
    assert len(before) >= 50
    assert after_end, "the load went on after the backup"
    while_running = [at for at, _ in load.acknowledged if began <= at <= ended]
    assert while_running, "writes were acknowledged while the backup ran"
    print(
        f"\nbackup under load: {len(before)} writes acknowledged before it, "
        f"{len(while_running)} while it ran ({ended - began:.2f} s, command start included), "
        f"{len(load.acknowledged)} in all"
    )

    fresh_env = env | {"RAPPORT_DATABASE_URL": f"sqlite:///{fresh}"}
    restored = _rapport("restore", str(copy), env=fresh_env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert _rows(fresh, "PRAGMA integrity_check") == [("ok",)]

    stored = {uuid.UUID(row[0]).hex for row in _rows(fresh, "SELECT id FROM administrations")}
    wanted = {uuid.UUID(identifier).hex for identifier in before}
    assert wanted <= stored, f"{len(wanted - stored)} acknowledged writes missing"
    audited = {
        uuid.UUID(row[0]).hex
        for row in _rows(
            fresh,
            "SELECT object_id FROM audit_events "
            "WHERE object_type = 'administration' AND outcome = 'success'",
        )
        if row[0]
    }
    assert wanted <= audited, f"{len(wanted - audited)} acknowledged writes lack an audit event"
    # Whatever the copy holds, it holds whole: every stored administration is audited.
    assert stored <= audited

    # The restored database serves: a new server on it lists a write made before the backup.
    port = free_port()
    fresh_env["RAPPORT_PORT"] = str(port)
    with running(server, fresh_env, tmp_path, port) as (_process, base):
        listed = httpx.get(f"{base}/v1/dyads/{dyads[0]}/administrations", headers=auth)
        assert listed.status_code == 200
        assert listed.json()["items"][0]["id"] in before


def test_refusals_are_specific_and_force_restores_over_an_open_database(tmp_path: Path) -> None:
    env = base_environment() | {"RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    assert _rapport("migrate", env=env, cwd=tmp_path).returncode == 0
    assert _rapport("backup", "--output", "copy.db", env=env, cwd=tmp_path).returncode == 0
    again = _rapport("backup", "--output", "copy.db", env=env, cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr

    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    junk = _rapport("restore", "junk.db", env=env, cwd=tmp_path)
    assert junk.returncode == 1
    assert "not a usable SQLite database" in junk.stderr
    missing = _rapport("restore", "nothing.db", env=env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no backup file" in missing.stderr

    target = tmp_path / "b.db"
    other = env | {"RAPPORT_DATABASE_URL": f"sqlite:///{target}"}
    assert _rapport("migrate", env=other, cwd=tmp_path).returncode == 0
    holder = sqlite3.connect(target)  # another connection has the database open
    try:
        holder.execute("SELECT count(*) FROM alembic_version").fetchone()
        refused = _rapport("restore", "copy.db", env=other, cwd=tmp_path)
        assert refused.returncode == 1
        assert "is in use" in refused.stderr
        forced = _rapport("restore", "--force", "copy.db", env=other, cwd=tmp_path)
        assert forced.returncode == 0, forced.stderr
    finally:
        holder.close()

    postgres = base_environment() | {"RAPPORT_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}
    saved = _rapport("backup", "--output", "pg.dump", env=postgres, cwd=tmp_path)
    put = _rapport("restore", "copy.db", env=postgres, cwd=tmp_path)
    assert saved.returncode == put.returncode == 1
    assert "pg_dump" in saved.stderr
    assert "pg_restore" in put.stderr
    assert not (tmp_path / "pg.dump").exists()


def _readme_command(program: str) -> str:
    """The README's command line that starts with ``program`` (Backup and restore)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = re.findall(rf"^{program} --.*$", readme, flags=re.MULTILINE)
    return line


@pytest.mark.postgres
def test_the_readmes_pg_dump_and_pg_restore_commands_round_trip(
    postgres_database: str, tmp_path: Path
) -> None:
    env = base_environment() | {"RAPPORT_DATABASE_URL": postgres_database}
    created = _rapport("create-api-key", "--tenant", "PG Clinic", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    refused = _rapport("backup", "--output", "x.db", env=env, cwd=tmp_path)
    assert refused.returncode == 1
    assert _readme_command("pg_dump") in refused.stderr  # the CLI points to the same commands

    dumped = subprocess.run(
        ["bash", "-c", _readme_command("pg_dump")], env=env, cwd=tmp_path,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr
    assert (tmp_path / "rapport.dump").stat().st_size > 0

    source = make_url(postgres_database)
    target = source.set(database=f"{source.database}_restored")
    admin = source.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{target.database}"')
    try:
        into = env | {"RAPPORT_DATABASE_URL": target.render_as_string(hide_password=False)}
        restored = subprocess.run(
            ["bash", "-c", _readme_command("pg_restore")], env=into, cwd=tmp_path,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        counts = "SELECT (SELECT count(*) FROM api_keys), (SELECT count(*) FROM audit_events)"
        with (
            psycopg.connect(postgres_database) as before,
            psycopg.connect(into["RAPPORT_DATABASE_URL"]) as after,
        ):
            assert after.execute(counts).fetchone() == before.execute(counts).fetchone()
            revision = "SELECT version_num FROM alembic_version"
            assert after.execute(revision).fetchone() == before.execute(revision).fetchone()
        # The restored database is ready for a server: the CLI finds the key's tenant there.
        listed = _rapport("list-api-keys", "--tenant", "PG Clinic", env=into, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "active" in listed.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
