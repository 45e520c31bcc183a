"""The committed openapi/openapi.json is exactly what the app serves (`make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

from service.api.app import create_app
from service.settings import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_spec_matches_the_app() -> None:
    live = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == live, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_contract_paths_are_present() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    assert "/v1/instruments" in paths
    assert "/v1/instruments/{instrument_id}" in paths
    assert "post" in paths["/v1/instruments/{instrument_id}/score"]
    score = paths["/v1/instruments/{instrument_id}/score"]["post"]["responses"]
    assert {"200", "404", "422"} <= set(score)
