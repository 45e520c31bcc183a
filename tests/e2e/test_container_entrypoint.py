"""The container's entrypoint, run exactly as the Dockerfile declares it (no Docker engine here).

The Dockerfile's ENV, WORKDIR, ENTRYPOINT and HEALTHCHECK are read from the file itself, so a
change there is tested; only the /data volume is mapped to a temporary directory and the
port to a free one.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import httpx

from tests.e2e.server import base_environment, free_port, running

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def _final_stage() -> list[str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last_from:]


def _instruction(name: str) -> str:
    found = [line[len(name) + 1 :] for line in _final_stage() if line.startswith(name + " ")]
    assert len(found) == 1, f"expected one {name} in the final stage"
    return found[0]


def _env() -> dict[str, str]:
    pairs = re.findall(r'(\w+)=("[^"]*"|\S+)', _instruction("ENV"))
    return {k: v.strip('"') for k, v in pairs}


def test_the_image_is_slim_non_root_with_a_data_volume_and_a_healthcheck() -> None:
    stage = _final_stage()
    # An exact Python release on an exact Debian release, not a moving tag.
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-bookworm", stage[0])
    # Numeric: Kubernetes can only check runAsNonRoot against a numeric USER.
    assert _instruction("USER") == "10001:10001"
    assert "--uid 10001 --gid 10001" in " ".join(stage)
    assert json.loads(_instruction("VOLUME")) == ["/data"]
    assert _env()["RAPPORT_DATABASE_URL"] == "sqlite:////data/rapport.db"
    assert json.loads(_instruction("ENTRYPOINT")) == ["rapport", "serve"]
    assert "CMD" in _instruction("HEALTHCHECK")
    assert "--require-hashes" in DOCKERFILE.read_text(encoding="utf-8")


def test_the_entrypoint_serves_persists_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"  # stands in for the /data volume
    data.mkdir()
    port = free_port()
    env = base_environment()
    for key, value in _env().items():
        if key != "PATH":
            env[key] = value.replace("/data/", f"{data}/")
    env["RAPPORT_PORT"] = str(port)
    env["RAPPORT_HOST"] = "127.0.0.1"
    entrypoint = json.loads(_instruction("ENTRYPOINT"))
    healthcheck = json.loads(_instruction("HEALTHCHECK").split("CMD", 1)[1].strip())

    # An operator creates a key with the same image: `docker run --entrypoint rapport ...`.
    created = subprocess.run(
        ["rapport", "create-api-key", "--tenant", "clinic e2e"],
        env=env, cwd=data, check=True, capture_output=True, text=True,
    )  # fmt: skip
    token = created.stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {token}"}

    with running(entrypoint, env, data, port) as (process, base):
        scored = httpx.post(
            f"{base}/v1/instruments/gad-7/score",
            json={"responses": {str(i): 2 for i in range(1, 8)}},
            headers=auth,
        )
        assert scored.status_code == 200
        assert scored.json()["total"] == 14
        probe = subprocess.run(healthcheck, env=env, cwd=data, check=False)
        assert probe.returncode == 0
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises SIGTERM (exit 143 in Docker).
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in (data / "server.log").read_text()

    assert (data / "rapport.db").exists()  # the database lives in the volume
    with running(entrypoint, env, data, port) as (_process, base):  # restart on the same volume
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        # The key created before the restart still works: the data lives in the volume.
        assert httpx.get(f"{base}/v1/instruments", headers=auth).status_code == 200

    probe = subprocess.run(healthcheck, env=env, cwd=data, check=False, capture_output=True)
    assert probe.returncode == 1  # nothing answers once the service is down
