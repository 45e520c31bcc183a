"""/docs renders without internet: headless Chromium, every host but 127.0.0.1 unresolvable.

The page is loaded from a real ``rapport serve`` and the DOM is dumped after Swagger UI has
run: the operations are listed, so its JavaScript and the OpenAPI document came from the
server itself. A screenshot is written next to the server's log for a person to look at.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx

from tests.e2e.browser import HEADLESS
from tests.e2e.browser import chromium as find_chromium
from tests.e2e.server import VENV_BIN, base_environment, free_port, running

BLOCK_THE_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def _browse(chromium: str, profile: Path, *args: str) -> str:
    command = [
        chromium, *HEADLESS, f"--user-data-dir={profile}", BLOCK_THE_NETWORK,
        "--virtual-time-budget=20000", "--window-size=1280,1600", *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout


def test_docs_render_from_local_files_with_the_network_blocked(tmp_path: Path) -> None:
    chromium = find_chromium()
    port = free_port()
    env = base_environment() | {"RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    command = [f"{VENV_BIN}/rapport", "serve", "--port", str(port)]
    with running(command, env, tmp_path, port) as (_process, base):
        page = httpx.get(f"{base}/docs").text
        dom = _browse(chromium, tmp_path / "profile", "--dump-dom", f"{base}/docs")
        _browse(
            chromium, tmp_path / "shot", f"--screenshot={tmp_path / 'docs.png'}", f"{base}/docs"
        )
        # The block is in force: a CDN's file does not load.
        blocked = _browse(
            chromium, tmp_path / "control", "--dump-dom",
            "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
        )  # fmt: skip

    assert not re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", page)  # no other host named
    assert "swagger-ui" not in blocked
    listed = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {
        "/v1/dyads/{dyad_id}/administrations",
        "/v1/instruments/{instrument_id}/score",
        "/v1/patients",
        "/fhir/R4/QuestionnaireResponse",
        "/healthz",
    } <= listed, dom[:2000]
    assert "Store a completed questionnaire and return its score" in dom
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    log = (tmp_path / "server.log").read_text()
    assert '"route": "/docs/assets/{path:path}", "status": 200' in log  # its JS came from here
