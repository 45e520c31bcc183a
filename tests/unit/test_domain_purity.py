"""The domain imports no framework (FastAPI, SQLAlchemy, Strawberry, pydantic...)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "service" / "domain"
FORBIDDEN = {
    "fastapi", "starlette", "sqlalchemy", "alembic", "strawberry", "pydantic",
    "pydantic_settings", "uvicorn", "httpx", "asyncpg", "aiosqlite", "fhir",
}  # fmt: skip
ALLOWED_INSIDE = {"service.domain"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_no_framework(path: Path) -> None:
    for name in _imports(path):
        root = name.split(".")[0]
        assert root not in FORBIDDEN, f"{path.name} imports {name}"
        if root == "service":
            assert any(name.startswith(p) for p in ALLOWED_INSIDE), (
                f"{path.name} imports {name}: the domain depends on nothing outside itself"
            )


def test_the_check_sees_the_domain() -> None:
    assert len(list(DOMAIN.rglob("*.py"))) >= 5
