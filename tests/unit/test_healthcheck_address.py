"""``rapport healthcheck`` follows the port the server was given (see service/cli/healthcheck)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli.healthcheck import served_address
from service.settings import Settings


def _proc(tmp_path: Path, *argv: str) -> Path:
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
    return tmp_path


SETTINGS = Settings(host="0.0.0.0", port=8000)


def test_without_a_rapport_server_as_pid_1_the_settings_decide(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "/sbin/init", "splash")
    assert served_address(SETTINGS, proc) == ("127.0.0.1", 8000)
    assert served_address(Settings(host="10.0.0.5", port=9100), proc) == ("10.0.0.5", 9100)
    assert served_address(SETTINGS, tmp_path / "missing") == ("127.0.0.1", 8000)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/opt/rapport/bin/python", "/opt/rapport/bin/rapport", "serve"], ("127.0.0.1", 8000)),
        (["/opt/rapport/bin/rapport", "serve", "--port", "9000"], ("127.0.0.1", 9000)),
        (["rapport", "serve", "--no-migrate", "--port=9001", "--host", "::"], ("127.0.0.1", 9001)),
        (["rapport", "serve", "--host", "192.0.2.7"], ("192.0.2.7", 8000)),
        (["rapport", "migrate", "--port", "9000"], ("127.0.0.1", 8000)),  # not a server
    ],
)
def test_the_containers_server_flags_win_over_the_settings(
    tmp_path: Path, argv: list[str], expected: tuple[str, int]
) -> None:
    assert served_address(SETTINGS, _proc(tmp_path, *argv)) == expected
