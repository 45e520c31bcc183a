"""The prepared-document cache (documents.py): one parse, guard and validation per query text.

What a cache keyed by the query text must never do: answer one text with another's document
or verdict, answer one request's variables with another's result, let a refused document
through when it comes back, keep a text that did not parse, or share a verdict between
configurations (introspection on and off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import GraphQLError

from service.api.graphql.documents import (
    INVALID_QUERY,
    SYNTAX_ERROR,
    TOO_COMPLEX,
    DocumentCache,
)
from service.api.graphql.execution import Operation, OperationRunner
from service.api.graphql.guard import Limits
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


def cache(**overrides: Any) -> DocumentCache:
    settings: dict[str, Any] = {"limits": Limits(), "introspection": False} | overrides
    return DocumentCache(build_schema()._schema, **settings)


def test_the_same_text_is_prepared_once_and_another_text_separately(counts: Counts) -> None:
    documents = cache()
    first = documents.get("{ instruments { id } }")
    assert documents.get("{ instruments { id } }") is first
    other = documents.get("{ instruments { name } }")  # differs in one field only
    assert other is not first
    assert other.document is not first.document
    assert (counts.parse, counts.validate) == (2, 2)
    assert not first.errors
    assert not other.errors
    # A refused text and an accepted one with the same fields are told apart too.
    wrong = documents.get("{ instruments { id nope } }")
    assert [e.message.split(".")[0] for e in wrong.errors] == [
        "Cannot query field 'nope' on type 'Instrument'"
    ]
    assert documents.get("{ instruments { id } }") is first


def test_a_refused_document_is_refused_again_from_the_cache(counts: Counts) -> None:
    documents = cache()
    for _ in range(3):
        refused = documents.get(DOUBLING)
        assert [e.extensions for e in refused.errors] == [{"code": TOO_COMPLEX}]
    assert counts.parse == 1
    assert counts.validate == 0  # the guard's refusal never reaches the validation


def test_a_text_that_does_not_parse_is_not_kept(counts: Counts) -> None:
    documents = cache()
    for _ in range(2):
        with pytest.raises(GraphQLError, match="Syntax Error"):
            documents.get("{ instruments { id }")
    assert counts.parse == 2
    too_many = "{ instruments { " + "id " * 5_000 + "} }"
    for _ in range(2):
        with pytest.raises(GraphQLError, match="more than 4000 tokens"):
            documents.get(too_many)


def test_long_texts_are_prepared_every_time_not_kept(counts: Counts) -> None:
    documents = cache(max_cached_length=40)
    short, long = "{ instruments { id } }", "{ instruments { id name shortName version } }"
    assert documents.get(short) is documents.get(short)
    first, second = documents.get(long), documents.get(long)
    assert first is not second
    assert not first.errors
    assert not second.errors
    assert counts.parse == 3


def test_the_least_recently_used_text_leaves_a_full_cache(counts: Counts) -> None:
    documents = cache(maxsize=2)
    a, b, c = "{ instruments { id } }", "{ instruments { name } }", "{ instruments { version } }"
    kept_a = documents.get(a)
    documents.get(b)
    assert documents.get(a) is kept_a  # a is now the most recent
    documents.get(c)  # evicts b
    assert documents.get(a) is kept_a
    parses = counts.parse
    documents.get(b)
    assert counts.parse == parses + 1


async def test_introspection_verdicts_are_not_shared_between_settings() -> None:
    schema = build_schema()
    closed, opened = OperationRunner(schema), OperationRunner(schema, introspection=True)
    query = Operation("{ __schema { queryType { name } } }")
    for _ in range(2):
        refused = await closed.run(query, None)
        assert refused["data"] is None, refused
        assert refused["errors"], refused
        assert await opened.run(query, None) == {
            "data": {"__schema": {"queryType": {"name": "Query"}}}
        }


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
