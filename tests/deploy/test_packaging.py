"""The migrations live in the top-level ``alembic/`` and still ship with the package.

A wheel is built from exactly what the Dockerfile's build stage copies, installed into a
fresh virtual environment (its dependencies borrowed from the test venv), and
``rapport migrate`` is run from an unrelated directory: this is what the image does.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build_stage_copies() -> list[str]:
    """The sources the Dockerfile's build stage copies from the context (not --from=...)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources: list[str] = []
    for match in re.finditer(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE):
        *parts, _destination = match.group(1).split()
        sources.extend(parts)
    return sources


def test_importing_alembic_from_the_repository_root_gives_the_library() -> None:
    # The top-level alembic/ has no __init__.py, so it is at most a namespace portion and
    # the installed library (a regular package) wins even with the root first on sys.path.
    assert not (ROOT / "alembic" / "__init__.py").exists()
    found = subprocess.run(
        [sys.executable, "-c", "import alembic, alembic.command; print(alembic.__file__)"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert Path(found.stdout.strip()).parent.parent == Path(sysconfig.get_path("purelib"))


def test_no_revision_is_left_in_the_old_location() -> None:
    old = ROOT / "service" / "store" / "migrations"
    left = sorted(str(p.relative_to(ROOT)) for p in old.rglob("*.py")) if old.exists() else []
    assert left == [], f"move these to alembic/ (alembic/versions/ for revisions): {left}"


def test_the_dockerfile_copies_the_migrations_into_the_build() -> None:
    assert "alembic" in _build_stage_copies()


def test_an_installed_wheel_migrates_from_any_directory(tmp_path: Path) -> None:
    context = tmp_path / "context"  # the build context as the Dockerfile's COPY lines see it
    context.mkdir()
    for source in _build_stage_copies():
        if source.startswith("requirements/"):
            continue
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, context / source)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(context)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("rapport-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # pip runs inside the new venv (--python), so it sees only that venv and never touches
    # the test venv's own (editable) rapport.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # Only now, dependencies from the test venv, after the new venv's own site-packages
    # (a .pth line adds a path; the test venv's editable install is not activated by it).
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    assert (venv / "share" / "rapport" / "alembic" / "env.py").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "PYTHON"))}
    env["RAPPORT_DATABASE_URL"] = f"sqlite:///{elsewhere / 'rapport.db'}"
    probe = subprocess.run(
        [str(python), "-c",
         "import service; from service.store import migrate; print(service.__file__); "
         "print(migrate.script_location()); print(migrate.head_revision())"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    package, scripts, head = probe
    assert Path(package).is_relative_to(site)  # the wheel's copy, not the checkout
    assert Path(scripts) == (venv / "share" / "rapport" / "alembic").resolve()

    migrated = subprocess.run(
        [str(python), "-m", "service.cli.main", "migrate"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(elsewhere / "rapport.db") as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == head
    own = sorted(p.name for p in (ROOT / "alembic" / "versions").glob("*.py"))
    shipped = sorted(p.name for p in (Path(scripts) / "versions").glob("*.py"))
    assert shipped == own  # every revision ships
