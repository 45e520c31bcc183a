"""RAPPORT_METRICS as a port number: /metrics is served there, and not on the service's port."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.server import VENV_BIN, base_environment, free_port, running


def test_metrics_on_a_port_of_their_own(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "RAPPORT_METRICS": str(metrics_port),
        "RAPPORT_LOG_FORMAT": "text",
    }
    command = [f"{VENV_BIN}/rapport", "serve", "--port", str(port)]
    with running(command, env, tmp_path, port) as (_process, base):
        assert httpx.get(f"{base}/metrics").status_code == 404
        httpx.get(f"{base}/healthz", headers={"X-Request-ID": "text-format-1"})
        apart = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert apart.status_code == 200
    line = next(
        line
        for line in apart.text.splitlines()
        if line.startswith("rapport_http_request_duration_seconds_count")
        and 'route="/healthz"' in line
        and 'status="200"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 1
    log = (tmp_path / "server.log").read_text()
    assert "[text-format-1] GET /healthz 200" in log  # RAPPORT_LOG_FORMAT=text
    assert not log.lstrip().startswith("{")
