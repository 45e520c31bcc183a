"""The schema's parse and validation caches and the guard (extensions.py), through Strawberry.

What the caches must never do: answer one text with another's document or verdict, answer
one request's variables with another's result, let a refused document through when it comes
back, keep a text that did not parse or a very long one, or share a verdict between
configurations (introspection on and off). The guard refuses before any validation runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import strawberry

from service.api.graphql import extensions
from service.api.graphql.extensions import INVALID_QUERY, SYNTAX_ERROR, TOO_COMPLEX
from service.api.graphql.schema import build_schema
from tests.integration.graphql_support import data, error_codes, gql, phq9, responses

SCORE = """
query($responses: [ResponseInput!]!) {
  score(instrument: "phq-9", responses: $responses) { total band }
}
"""
LEVELS = 5
DOUBLING = f"query {{ ...F{LEVELS} }} " + " ".join(
    ["fragment F0 on Query { a: instruments { id } b: instruments { name } }"]
    + [
        f"fragment F{i} on Query {{ x{i}: __typename ...F{i - 1} ...F{i - 1} }}"
        for i in range(1, LEVELS + 1)
    ]
)
"""Aliases double with each level (F0 has 2, Fn 1 + 2 x Fn-1): 95, past the limit of 30."""


@dataclass
class Counts:
    parse: int = 0
    validate: int = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    """Counts graphql-core's parses and Strawberry's validations (its validate_document)."""
    import graphql.language.parser as parser
    import strawberry.schema.schema as strawberry_schema

    seen = Counts()
    parse_document, validate = parser.Parser.parse_document, strawberry_schema.validate

    def counted_parse(self: Any) -> Any:
        seen.parse += 1
        return parse_document(self)

    def counted_validate(*args: Any, **kwargs: Any) -> Any:
        seen.validate += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(parser.Parser, "parse_document", counted_parse)
    monkeypatch.setattr(strawberry_schema, "validate", counted_validate)
    return seen


def fresh(text: str) -> str:
    """``text`` under a comment no other test sends: the caches live as long as the process."""
    return f"# {uuid.uuid4()}\n{text}"


async def run(schema: strawberry.Schema, text: str) -> Any:
    return await schema.execute(text)


def built(counts: Counts) -> strawberry.Schema:
    """A schema, its own parse (the guard reads the SDL) left out of the counts."""
    schema = build_schema()
    counts.parse = counts.validate = 0
    return schema


async def test_the_same_text_is_parsed_and_validated_once(counts: Counts) -> None:
    schema = built(counts)
    alias = f"x{uuid.uuid4().hex}"  # a document no other test sends
    text, other = f"{{ {alias}: __typename }}", f"{{ {alias}: __typename __typename }}"
    for _ in range(3):
        assert (await run(schema, text)).data == {alias: "Query"}
    assert (counts.parse, counts.validate) == (1, 1)
    assert (await run(schema, other)).data == {alias: "Query", "__typename": "Query"}
    assert (counts.parse, counts.validate) == (2, 2)
    wrong = await run(schema, fresh("{ __typename nope }"))
    assert [e.message.split(".")[0] for e in wrong.errors] == [
        "Cannot query field 'nope' on type 'Query'"
    ]


async def test_a_refused_document_never_reaches_the_validation(counts: Counts) -> None:
    schema = built(counts)
    text = fresh(DOUBLING)
    for _ in range(3):
        refused = await run(schema, text)
        assert refused.data is None
        assert [e.extensions for e in refused.errors] == [{"code": TOO_COMPLEX}]
    assert counts.parse == 1
    assert counts.validate == 0  # the guard's refusal never reaches the validation


async def test_a_text_that_does_not_parse_is_not_kept(counts: Counts) -> None:
    schema = built(counts)
    text = fresh("{ instruments { id }")
    for _ in range(2):
        answer = await run(schema, text)
        assert "Syntax Error" in answer.errors[0].message
        assert answer.errors[0].extensions == {"code": SYNTAX_ERROR}
    assert counts.parse == 4  # each time: by the cache, then by Strawberry to report it
    too_many = fresh("{ instruments { " + "id " * 5_000 + "} }")
    for _ in range(2):
        answer = await run(schema, too_many)
        assert "more than 4000 tokens" in answer.errors[0].message
        assert answer.errors[0].extensions == {"code": TOO_COMPLEX}


async def test_long_texts_are_parsed_every_time_not_kept(
    counts: Counts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extensions, "LONGEST_CACHED", 60)
    schema = built(counts)
    short, long = fresh("{ __typename }"), fresh("{ __typename " + " " * 60 + "}")
    for _ in range(2):
        assert (await run(schema, short)).data == {"__typename": "Query"}
        assert (await run(schema, long)).data == {"__typename": "Query"}
    assert counts.parse == 3


async def test_introspection_verdicts_are_not_shared_between_settings() -> None:
    closed, opened = build_schema(), build_schema(introspection=True)
    query = "{ __schema { queryType { name } } }"
    for _ in range(2):
        refused = await closed.execute(query)
        assert refused.data is None, refused
        assert refused.errors, refused
        assert (await opened.execute(query)).data == {"__schema": {"queryType": {"name": "Query"}}}


# Through HTTP -------------------------------------------------------------------------------------


async def test_the_same_document_answers_each_requests_variables(client: httpx.AsyncClient) -> None:
    totals = []
    for total in (4, 12, 4, 20, 12):
        answer = await data(client, SCORE, {"responses": responses(phq9(total))})
        totals.append(answer["score"]["total"])
    assert totals == [4, 12, 4, 20, 12]
    bands = await data(client, SCORE, {"responses": responses(phq9(20))})
    assert bands["score"]["band"] == "severe"


async def test_a_hostile_document_is_refused_every_time_it_comes_back(
    client: httpx.AsyncClient, counts: Counts
) -> None:
    for _ in range(3):
        answer = await gql(client, DOUBLING)
        assert answer.get("data") is None, answer
        assert error_codes(answer) == [TOO_COMPLEX], answer
    assert counts.parse == 1
    assert counts.validate == 0
    assert (await data(client, "{ __typename }")) == {"__typename": "Query"}


async def test_an_invalid_document_keeps_its_errors_when_repeated(
    client: httpx.AsyncClient,
) -> None:
    answers = [await gql(client, "{ instruments { id nope } }") for _ in range(2)]
    assert answers[0] == answers[1]
    assert answers[0]["data"] is None
    assert "nope" in answers[0]["errors"][0]["message"]


async def test_every_refusal_of_a_document_has_a_stable_code(client: httpx.AsyncClient) -> None:
    """Clients branch on ``extensions.code``: not on messages, which graphql-core may reword."""
    cases = {
        "{ instruments { id ": SYNTAX_ERROR,  # not a document
        "{ instruments { " + "id " * 5_000 + "} }": TOO_COMPLEX,  # past the token limit
        "{ instruments { id nope } }": INVALID_QUERY,  # the schema has no such field
        '{ score(instrument: "phq-9") { total } }': INVALID_QUERY,  # a required argument missing
        "{ __schema { queryType { name } } }": INVALID_QUERY,  # introspection is off
        DOUBLING: TOO_COMPLEX,  # the guard's alias limit
    }
    for document, code in cases.items():
        for _ in range(2):  # prepared, then from the cache: the same code
            answer = await gql(client, document)
            assert answer.get("data") is None, answer
            assert set(error_codes(answer)) == {code}, (document[:40], answer)
