"""Every query on a tenant-owned table goes through the one scoping helper, ``owned``.

A direct ``select(patients)`` in the query modules would bypass the tenant filter; this test
fails on it. The lookups of an API key, a SMART client and an access token are the deliberate
exceptions: each finds the tenant.
"""

from __future__ import annotations

import ast
from pathlib import Path

from service.store.schema import metadata

QUERIES = Path(__file__).resolve().parents[2] / "service" / "store" / "queries"
TENANT_OWNED = {name for name, table in metadata.tables.items() if "tenant_id" in table.c}
# owned is the helper; a key, a SMART client and an access token each find their tenant; the
# webhook delivery worker serves every tenant's outbox
ALLOWED = {
    "owned", "find_api_key", "find_smart_client", "find_access_token", "claim_deliveries",
}  # fmt: skip


def _direct_selects(source: str) -> list[tuple[str, str]]:
    tree = ast.parse(source)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or function.name in ALLOWED:
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "select"
            ):
                for arg in node.args:
                    if isinstance(arg, ast.Name) and arg.id in TENANT_OWNED:
                        found.append((function.name, arg.id))
    return found


def test_tenant_owned_tables_are_known() -> None:
    assert {"patients", "dyads", "administrations", "audit_events"} <= TENANT_OWNED


def test_no_query_bypasses_the_tenant_filter() -> None:
    modules = sorted(QUERIES.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        assert _direct_selects(module.read_text(encoding="utf-8")) == [], module.name


def test_the_check_catches_a_bypass() -> None:
    leaky = "def leak(c):\n    return c.execute(select(patients).where(patients.c.id == 1))\n"
    assert _direct_selects(leaky) == [("leak", "patients")]
