"""vl-convert reads its fonts with Rapport's font configuration (service/api/charts/fonts.py),
and the process's environment is left as it was, so a program it starts keeps its fonts.
Each check runs in a new process: vl-convert reads its fonts once per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.api.charts.fonts import CONFIGURATION

ROOT = Path(__file__).resolve().parents[2]
DRAW_AND_REPORT = (
    "import os; from service.api.charts.render import warm_up; warm_up(); "
    "print(os.environ.get('FONTCONFIG_FILE'))"
)


def _after_a_drawing(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"} | env
    done = subprocess.run(
        [sys.executable, "-c", DRAW_AND_REPORT], cwd=ROOT, env=environment,
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_configuration_names_one_font_directory_that_does_not_exist() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    assert '<dir prefix="relative">no-host-fonts</dir>' in text
    assert not (CONFIGURATION.parent / "no-host-fonts").exists()


def test_drawing_leaves_the_environment_as_it_was() -> None:
    assert _after_a_drawing() == "None"


def test_an_operators_font_configuration_is_kept() -> None:
    assert _after_a_drawing(FONTCONFIG_FILE="/etc/fonts/fonts.conf") == "/etc/fonts/fonts.conf"
