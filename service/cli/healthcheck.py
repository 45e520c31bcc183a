"""``rapport healthcheck``: the container's probe asks the port the server was given.

A container's HEALTHCHECK runs as a separate process with the image's environment, so it
sees ``RAPPORT_PORT``/``RAPPORT_HOST`` exactly as ``rapport serve`` does. When the server was
instead given ``--port``/``--host`` on its command line (``docker run IMAGE --port 9000``),
those win, as they do for the server: in a container the server is PID 1, so its command
line is read from ``/proc/1/cmdline``. Anywhere else PID 1 is not ``rapport serve`` and the
settings alone decide.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from pathlib import Path

from service.settings import Settings

_ANY = ("0.0.0.0", "::")  # noqa: S104 - a wildcard bind is probed on loopback


def served_address(settings: Settings, proc: Path = Path("/proc")) -> tuple[str, int]:
    """Where the local server listens: PID 1's ``serve`` flags, else the settings."""
    host, port = settings.host, settings.port
    flags = _serve_flags(proc / "1" / "cmdline")
    if flags is not None:
        given, _unknown = _flag_parser().parse_known_args(flags)
        host = given.host or host
        port = given.port or port
    return ("127.0.0.1" if host in _ANY else host), port


def probe(settings: Settings, host: str | None, port: int | None) -> int:
    """Exit status 0 when /healthz answers 200, else 1 with the reason on stderr."""
    served_host, served_port = served_address(settings)
    url = f"http://{host or served_host}:{port or served_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"rapport: {url} did not answer: {exc}", file=sys.stderr)
        return 1


def _serve_flags(cmdline: Path) -> list[str] | None:
    """The arguments after ``rapport serve`` in a NUL-separated command line, if it is one."""
    try:
        argv = cmdline.read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    for i, arg in enumerate(argv[:-1]):
        if Path(arg).name == "rapport" and argv[i + 1] == "serve":
            return [a for a in argv[i + 2 :] if a]
    return None


def _flag_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    return parser
