"""Start a real ``rapport serve`` process for end-to-end tests, and stop it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


def rapport(*args: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one ``rapport`` command to its end, capturing what it printed."""
    return subprocess.run(
        [f"{VENV_BIN}/rapport", *args], env=dict(env), cwd=cwd, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def base_environment() -> dict[str, str]:
    """The test process's environment without any RAPPORT_* setting, venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def running(
    command: Sequence[str], env: Mapping[str, str], cwd: Path, port: int, timeout: float = 30.0
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run ``command`` until /readyz answers 200; yield it and its base URL; SIGTERM after."""
    log = cwd / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, timeout, log)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], base: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready within {timeout}s:\n{log.read_text()}")
