"""The README's tour runs as written against a real `rapport serve` (the README stays true)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.server import VENV_BIN, base_environment, free_port, running

README = Path(__file__).resolve().parents[2] / "README.md"


def _tour() -> str:
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A short tour") : text.index("Interactive API documentation")]
    blocks = re.findall(r"```sh\n(.*?)```", tour, re.S)
    assert len(blocks) >= 2
    return "\n".join(blocks)


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    port = free_port()
    endpoint = free_port()  # the tour's stand-in for an EHR's webhook endpoint
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'tour.db'}",
        "RAPPORT_PORT": str(port),
        "RAPPORT_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # as the tour's webhook step says
    }
    script = "set -eu\n" + _tour().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    script = script.replace("8099", str(endpoint))
    script = script.replace(".venv/bin/rapport", f"{VENV_BIN}/rapport")
    script = script.replace(".venv/bin/python", f"{VENV_BIN}/python")
    with running([f"{VENV_BIN}/rapport", "serve"], env, tmp_path, port):
        result = subprocess.run(
            ["/bin/bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    output = result.stdout
    assert result.returncode == 0, result.stderr + output
    assert '"total":11.0' in output  # the stateless PHQ-9 example
    assert '"code":"invalid-responses"' in output  # the bad-input example
    assert '"classification"' in output  # progress, over REST and GraphQL
    assert '"kind":"risk"' in output  # the alert raised by item 9
    assert '"resourceType":"Questionnaire"' in output
    assert '"status":"ready"' in output
    assert "Unable to parse" not in output
    assert '"token_endpoint":' in output  # SMART discovery
    assert '{"items":[{"id":' in output  # the alert, read with a SMART access token
    assert '"type":"alert.raised"' in output  # the webhook's delivery arrived
    assert " v1," in output  # signed
    assert "entered-in-error - Answers entered for the wrong client" in output  # a void
    assert '{"data":{"dyad":{"administrations":[{"session":1' in output  # GraphQL answered
    assert '"errors":[{"message"' not in output  # and without GraphQL errors
