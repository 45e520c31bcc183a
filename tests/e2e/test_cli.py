"""The `rapport` command works from any directory; keys carry the scopes asked for."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.e2e.server import VENV_BIN, base_environment, free_port, running


def _rapport(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [f"{VENV_BIN}/rapport", *args], env=env, cwd=cwd, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip


def test_keys_have_the_scopes_asked_for(tmp_path: Path) -> None:
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "RAPPORT_PORT": str(port),
    }
    elsewhere = tmp_path / "some" / "other" / "dir"
    elsewhere.mkdir(parents=True)
    assert _rapport("migrate", env=env, cwd=elsewhere).returncode == 0
    reader = _rapport(
        "create-api-key", "--tenant", "Clinic", "--scope", "read", env=env, cwd=elsewhere
    )
    writer = _rapport("create-api-key", "--tenant", "Clinic", env=env, cwd=elsewhere)
    assert reader.returncode == writer.returncode == 0
    read_token = reader.stdout.strip().splitlines()[-1]
    write_token = writer.stdout.strip().splitlines()[-1]
    assert read_token.startswith("rap_")
    assert read_token != write_token
    with running([f"{VENV_BIN}/rapport", "serve", "--no-migrate"], env, tmp_path, port) as (
        _,
        base,
    ):
        as_reader = {"Authorization": f"Bearer {read_token}"}
        as_writer = {"Authorization": f"Bearer {write_token}"}
        body = {"external_id": "MRN-1"}
        assert httpx.post(f"{base}/v1/patients", json=body, headers=as_reader).status_code == 403
        assert httpx.post(f"{base}/v1/patients", json=body, headers=as_writer).status_code == 201
        listed = httpx.get(f"{base}/v1/patients", headers=as_reader).json()
        assert [p["external_id"] for p in listed["items"]] == ["MRN-1"]  # same tenant


def test_bad_settings_and_arguments_fail_clearly(tmp_path: Path) -> None:
    env = base_environment() | {"RAPPORT_DATABASE_URL": "mysql://nope/db"}
    result = _rapport("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "unsupported database" in result.stderr
    missing = _rapport("create-api-key", env=base_environment(), cwd=tmp_path)
    assert missing.returncode == 2
    assert "--tenant" in missing.stderr
