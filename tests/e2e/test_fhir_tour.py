"""docs/fhir.md's curl walkthrough runs as written against a real `rapport serve`: storing,
conditional create, searching and reading back (the document stays true)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.server import VENV_BIN, base_environment, free_port, running

DOC = Path(__file__).resolve().parents[2] / "docs" / "fhir.md"


def _walkthrough() -> str:
    text = DOC.read_text(encoding="utf-8")
    part = text[text.index("## Walkthrough with curl") : text.index("## Validation")]
    blocks = re.findall(r"```sh\n(.*?)```", part, re.S)
    assert len(blocks) == 3
    return "\n".join(blocks)


def test_the_fhir_walkthrough_runs_as_written(tmp_path: Path) -> None:
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'fhir.db'}",
        "RAPPORT_PORT": str(port),
    }
    script = "set -eu\n" + _walkthrough().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    script = script.replace(".venv/bin/rapport", f"{VENV_BIN}/rapport")
    with running([f"{VENV_BIN}/rapport", "serve"], env, tmp_path, port):
        result = subprocess.run(
            ["/bin/bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    output = result.stdout
    assert result.returncode == 0, result.stderr + output
    assert re.search(r"HTTP/1.1 201 Created", output)
    assert re.search(r"(?i)location: http://127.0.0.1:\d+/fhir/R4/QuestionnaireResponse/", output)
    assert "\n200\n" in output  # the conditional create's retry found the match
    assert '"valueQuantity":{"value":10.0' in output
    assert '"searchset"' in output
    assert re.search(r'(?i)etag: W/"1"', output)
    assert '"code":"not-supported"' in output  # the strict search
    # Lenient: the unknown parameter is ignored and left out of the self link.
    assert re.search(r'"relation":"self","url":"[^"]*/Flag\?patient=[^"&]*"', output)
    assert output.rstrip().endswith("406\n405")  # XML refused; PUT not allowed
