"""The `rapport` command works from any directory; keys carry the scopes asked for, and are
listed and revoked without a secret or its hash ever being printed."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.e2e.server import VENV_BIN, base_environment, free_port, running
from tests.e2e.server import rapport as _rapport


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


def _token(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _listing(rapport: Callable[..., subprocess.CompletedProcess[str]]) -> list[list[str]]:
    listed = rapport("list-api-keys", "--tenant", "Clinic")
    assert listed.returncode == 0, listed.stderr
    return [line.split() for line in listed.stdout.strip().splitlines()]


def test_keys_are_listed_and_revoked(database_url: str, tmp_path: Path) -> None:
    env = base_environment() | {"RAPPORT_DATABASE_URL": database_url}

    def rapport(*args: str) -> subprocess.CompletedProcess[str]:
        return _rapport(*args, env=env, cwd=tmp_path)

    reader = _token(rapport("create-api-key", "--tenant", "Clinic", "--scope", "read"))
    writer = _token(rapport("create-api-key", "--tenant", "Clinic"))
    _token(rapport("create-api-key", "--tenant", "Elsewhere"))  # never in Clinic's list
    prefixes = [t.split("_")[1] for t in (reader, writer)]
    secrets = [t.split("_", 2)[2] for t in (reader, writer)]
    hidden = secrets + [hashlib.sha256(s.encode()).hexdigest() for s in secrets]
    outputs: list[str] = []

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = rapport(*args)
        outputs.append(result.stdout + result.stderr)
        return result

    rows = _listing(run)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (prefixes[0], "read", "active"),
        (prefixes[1], "read,write", "active"),
    ]
    by_prefix = run("revoke-api-key", prefixes[0])
    by_token = run("revoke-api-key", writer)  # a pasted leaked token names its key
    for result, prefix in ((by_prefix, prefixes[0]), (by_token, prefixes[1])):
        assert result.returncode == 0, result.stderr
        assert f"Revoked API key {prefix}" in result.stdout
        assert "within 30 seconds" in result.stdout

    revoked = _listing(run)
    assert [r[0] for r in revoked] == prefixes
    assert all(r[3] != "active" and r[3] >= r[2] for r in revoked)  # ISO times, revoked later
    twice = run("revoke-api-key", reader)
    assert twice.returncode == 0
    assert f"API key {prefixes[0]} was already revoked at {revoked[0][3]}" in twice.stdout
    assert _listing(run) == revoked  # revoked_at unchanged

    unknown_key = run("revoke-api-key", "feedfacecafe")
    unknown_tenant = run("list-api-keys", "--tenant", "Nobody")
    assert unknown_key.returncode == unknown_tenant.returncode == 1
    assert "No API key has the prefix 'feedfacecafe'" in unknown_key.stderr
    assert "No tenant is named 'Nobody'" in unknown_tenant.stderr
    assert unknown_key.stdout == unknown_tenant.stdout == ""
    assert not [h for h in hidden for output in outputs if h in output]
    assert "within 30 seconds" in " ".join(run("revoke-api-key", "--help").stdout.split())
