"""Debian's Chromium for the browser tests: where it is, and how it runs headless here."""

from __future__ import annotations

import os
import shutil

import pytest

# Headless as root, with nothing phoning home: the machine's network is closed, and
# background connections would be refused by the dozen.
HEADLESS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium() -> str:
    """The executable; under CI a missing Chromium fails the test (`.ci/run` installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (.ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found
