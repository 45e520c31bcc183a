"""compose.yaml: valid against the Compose specification, wired as the README says, and the
commands its services run work against a real PostgreSQL database.

No container engine runs here, so the services' commands run as processes with the
environment Compose would give them: the image's ENV (from the Dockerfile), then `.env`
(from .env.example), then the service's `environment`, interpolated as Compose does; the
service name `db` is PostgreSQL on this machine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.engine import make_url

from service.store import migrate
from tests.e2e.server import base_environment, free_port, running

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def _dotenv(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$ (the subset compose.yaml uses)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, word = match.group(1), match.group(2), match.group(3)
        found = variables.get(name, "")
        if operator == ":?" and not found:
            raise AssertionError(f"compose would refuse: {word}")
        return found or (word if operator == ":-" else "")

    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def _image_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    final = text[text.rindex("\nFROM ") :]
    (env,) = re.findall(r"^ENV (.+)$", final, flags=re.MULTILINE)
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', env)}


def _image_entrypoint() -> list[str]:
    (line,) = re.findall(r"^ENTRYPOINT (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    entrypoint: list[str] = json.loads(line)
    return entrypoint


def test_compose_file_is_valid_against_the_compose_specification(tmp_path: Path) -> None:
    assert _validate(ROOT / "compose.yaml").returncode == 0
    # The validator is not a rubber stamp: a misspelt condition is rejected.
    broken = (ROOT / "compose.yaml").read_text().replace("service_healthy", "service_happy", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    rejected = _validate(tmp_path / "compose.yaml")
    assert rejected.returncode == 1
    assert "service_happy" in rejected.stdout + rejected.stderr


def test_the_database_persists_and_rapport_waits_for_it_and_migrates_once() -> None:
    services = _compose()["services"]
    db, once, app = services["db"], services["migrate"], services["rapport"]
    assert "db-data" in _compose()["volumes"]
    assert "db-data:/var/lib/postgresql/data" in db["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert once["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert [*once["entrypoint"], *once["command"]] == ["rapport", "migrate"]
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert app["command"] == ["--no-migrate"]  # the image's `rapport serve`, no migration
    assert app["image"] == once["image"]
    assert app["build"] == once["build"] == "."  # built here, never pulled
    for service in (once, app):
        assert service["env_file"] == [{"path": ".env", "required": False}]
    assert (ROOT / ".env.example").is_file()
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_services_commands_run_against_postgresql(
    postgres_database: str, tmp_path: Path
) -> None:
    if shutil.which("pg_isready") is None:
        raise AssertionError("pg_isready (PostgreSQL's client tools) is needed")
    url = make_url(postgres_database)
    # .env as an operator writes it from the example, pointed at the test database.
    dotenv = _dotenv(ROOT / ".env.example") | {
        "POSTGRES_DB": str(url.database),
        "POSTGRES_USER": str(url.username),
        "POSTGRES_PASSWORD": url.password or "unused-with-trust-auth",
    }
    services = _compose()["services"]

    def environment(service: dict[str, Any]) -> dict[str, str]:
        env = base_environment() | _image_env() | dotenv
        for key, value in service.get("environment", {}).items():
            env[key] = _interpolate(str(value), dotenv)
        # The service name `db` resolves to PostgreSQL here, as Compose's network does there.
        env["RAPPORT_DATABASE_URL"] = env["RAPPORT_DATABASE_URL"].replace(
            "@db:5432/", f"@{url.host}:{url.port or 5432}/"
        )
        env["PATH"] = base_environment()["PATH"]
        return env

    # The database's health check, as Compose runs it (CMD-SHELL), with the db service's env.
    kind, check = services["db"]["healthcheck"]["test"]
    db_env = base_environment() | {
        k: _interpolate(str(v), dotenv) for k, v in services["db"]["environment"].items()
    }
    assert kind == "CMD-SHELL"
    healthy = subprocess.run(["/bin/sh", "-c", _interpolate(check, {})], env=db_env, check=False)
    assert healthy.returncode == 0

    once = services["migrate"]
    migrated = subprocess.run(
        [*once["entrypoint"], *once["command"]], env=environment(once), cwd=tmp_path,
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema is at revision {migrate.head_revision()}" in migrated.stderr

    app = services["rapport"]
    env = environment(app)
    port = free_port()
    env["RAPPORT_PORT"] = str(port)  # the container's 8000, on a free port here
    with running([*_image_entrypoint(), *app["command"]], env, tmp_path, port) as (_, base):
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200  # reachable, and the schema is at head
        probe = subprocess.run(["rapport", "healthcheck"], env=env, check=False)
        assert probe.returncode == 0
