"""The committed openapi/schema.graphql is exactly the served schema (`make openapi`)."""

from __future__ import annotations

from pathlib import Path

from service.api.graphql.schema import build_schema

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "schema.graphql"


def test_committed_sdl_matches_the_schema() -> None:
    live = build_schema().as_str() + "\n"
    assert COMMITTED.read_text(encoding="utf-8") == live, (
        "openapi/schema.graphql is stale: run `make openapi` and commit it"
    )


def test_the_contract_score_query_is_present() -> None:
    sdl = COMMITTED.read_text(encoding="utf-8")
    assert (
        "score(instrument: String!, responses: [ResponseInput!]!, population: Population = null): "
        "ScoreResult!"
    ) in sdl
    assert "input ResponseInput {\n  item: String!\n  value: Float!\n}" in sdl
