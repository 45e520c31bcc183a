"""The dyad page in a real browser: headless Chromium opens it through a view link on a
real ``rapport serve`` process, and a refused link shows no data.

Chromium renders the page under its own Content-Security-Policy; the test reads the DOM
Chromium built (``--dump-dom``), checks the console for CSP refusals, and takes screenshots
at a desktop and a phone width (kept in ``RAPPORT_SCREENSHOT_DIR`` when set, to look at).
Under CI a missing Chromium fails the test (`.ci/run` installs Debian's package).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.charts_support import seed_dyad
from tests.e2e.browser import HEADLESS
from tests.e2e.browser import chromium as find_chromium
from tests.e2e.server import VENV_BIN, base_environment, free_port, running

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The first screen at each width, and the whole page at that width (the charts are below
# the alerts and the latest scores).
SIZES = {
    "desktop": (1280, 900), "phone": (390, 844),
    "desktop-full": (1280, 2000), "phone-full": (390, 2900),
}  # fmt: skip


@dataclass
class Browser:
    executable: str
    profile: Path

    def run(self, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """Chromium headless on ``url``, with a fresh profile and nothing phoning home."""
        command = [
            self.executable, *HEADLESS, "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
            f"--user-data-dir={self.profile}", *extra, url,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def dom(self, url: str) -> tuple[str, str]:
        """The DOM Chromium built from the page, and its log (console messages)."""
        result = self.run(url, "--dump-dom", "--virtual-time-budget=3000")
        return result.stdout, result.stderr

    def screenshot(self, url: str, path: Path, width: int, height: int) -> None:
        self.run(url, f"--screenshot={path}", f"--window-size={width},{height}")
        assert path.read_bytes().startswith(PNG_MAGIC)


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    return Browser(find_chromium(), tmp_path / "chromium-profile")


@dataclass
class Served:
    base: str
    links: dict[str, str]  # name -> URL
    dyads: dict[str, str]


def _key(env: dict[str, str], cwd: Path, tenant: str) -> str:
    result = subprocess.run(
        [f"{VENV_BIN}/rapport", "create-api-key", "--tenant", tenant],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


async def _prepare(base: str, token_a: str, token_b: str) -> Served:
    auth = {"Authorization": f"Bearer {token_a}"}
    async with (
        httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as a,
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token_b}"}) as b,
    ):
        dyad_a, _ = await seed_dyad(a, 10)
        dyad_b, _ = await seed_dyad(b, 3)

        async def link(client: httpx.AsyncClient, dyad: str, seconds: int = 900) -> str:
            response = await client.post(
                f"/v1/dyads/{dyad}/view-links", json={"expires_in": seconds}
            )
            assert response.status_code == 201, response.text
            url: str = response.json()["url"]
            return url

        good, short, foreign = (
            await link(a, dyad_a),
            await link(a, dyad_a, 1),
            await link(b, dyad_b),
        )
    tenant_a, signed_a = good.rsplit("/", 1)[1].split(".", 1)
    tenant_b, _ = foreign.rsplit("/", 1)[1].split(".", 1)
    flipped = signed_a[:-2] + ("AA" if not signed_a.endswith("AA") else "BB")
    return Served(
        base,
        {
            "good": good,
            "expiring": short,
            "altered": f"{base}/view/{tenant_a}.{flipped}",
            "foreign-tenant": f"{base}/view/{tenant_b}.{signed_a}",
            "other-tenant's-own": foreign,
        },
        {"a": dyad_a, "b": dyad_b},
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'page.db'}",
        "RAPPORT_PORT": str(port),
    }
    with running([f"{VENV_BIN}/rapport", "serve"], env, tmp_path, port) as (_, base):
        token_a, token_b = _key(env, tmp_path, "clinic-a"), _key(env, tmp_path, "clinic-b")
        yield asyncio.run(_prepare(base, token_a, token_b))


def test_the_page_shows_both_charts_and_the_alerts_in_a_real_browser(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    dom, log = browser.dom(served.links["good"])
    assert dom.count("<svg") == 2
    assert '<title id="progress-title">PHQ-9 from' in dom
    assert '<title id="alliance-title">Alliance by session' in dom
    assert 'aria-roledescription="line mark"' in dom  # the charts' marks are in the DOM
    assert 'data-kind="risk"' in dom
    assert "A risk item was endorsed at session 2" in dom
    assert 'data-kind="rupture"' in dom
    assert "Discordance is descriptive information" in dom
    assert '<th scope="row">PHQ-9</th>' in dom
    assert "Content Security Policy" not in log, log  # nothing on the page was refused
    keep = os.environ.get("RAPPORT_SCREENSHOT_DIR")
    for name, (width, height) in SIZES.items():
        shot = tmp_path / f"dyad-page-{name}.png"
        browser.screenshot(served.links["good"], shot, width, height)
        assert shot.stat().st_size > 30_000, name  # a rendered page, not a blank one
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)


def test_expired_altered_and_foreign_links_show_nothing(browser: Browser, served: Served) -> None:
    time.sleep(1.5)  # the "expiring" link lived one second
    for name in ("expiring", "altered", "foreign-tenant"):
        response = httpx.get(served.links[name])
        assert response.status_code == (403 if name == "expiring" else 404), name
        dom, _ = browser.dom(served.links[name])
        assert "<svg" not in dom, name
        assert "This view link cannot be opened" in dom, name
        assert served.dyads["a"][-8:] not in dom, name
    # Tenant B's own link opens B's dyad, never A's.
    dom, _ = browser.dom(served.links["other-tenant's-own"])
    assert served.dyads["b"][-8:] in dom
    assert served.dyads["a"][-8:] not in dom
