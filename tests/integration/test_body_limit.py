"""Request bodies have a ceiling (service/api/body_limit.py): beyond it, 413 in each
adapter's own format, before the body is buffered; up to it, nothing changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException

from service.api.app import create_app
from service.api.body_limit import limited
from service.app.auth import issue_api_key
from service.domain.records import Scope
from service.settings import Settings
from tests.conftest import migrated

LIMIT = 4096
PHQ9 = {str(i): 1 for i in range(1, 10)}


@pytest.fixture
async def app(sqlite_url: str) -> AsyncIterator[Any]:
    migrated(sqlite_url)
    built = create_app(Settings(database_url=sqlite_url, max_body_bytes=LIMIT))
    async with built.router.lifespan_context(built):
        token = await issue_api_key(built.state.services.transact, "clinic", frozenset(Scope))
        built.state.test_token = token
        yield built


def _padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON of exactly ``size`` bytes (trailing white space is still JSON)."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def _post(app: Any, path: str, content: bytes, media: str = "application/json") -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = {"Authorization": f"Bearer {app.state.test_token}", "Content-Type": media}
        return await client.post(path, content=content, headers=headers)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/instruments/phq-9/score", {"responses": PHQ9}),  # the busiest route
        ("/v1/patients", {"external_id": "MRN-1"}),
        ("/graphql", {"query": "{ instruments { id } }"}),
    ],
)
async def test_a_body_past_the_ceiling_is_a_413_problem(
    app: Any, path: str, body: dict[str, Any]
) -> None:
    refused = await _post(app, path, _padded(body, LIMIT + 1))
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "payload-too-large"
    assert str(LIMIT) in refused.json()["detail"]
    accepted = await _post(app, path, _padded(body, LIMIT))
    assert accepted.status_code in (200, 201), accepted.text


async def test_fhir_answers_a_413_with_an_operation_outcome(app: Any) -> None:
    refused = await _post(
        app, "/fhir/R4/QuestionnaireResponse/$extract",
        _padded({"resourceType": "QuestionnaireResponse"}, LIMIT + 1), "application/fhir+json",
    )  # fmt: skip
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("application/fhir+json")
    assert refused.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", ["/v1/instruments/phq-9/score", "/v1/patients"])
async def test_a_body_in_chunks_is_refused_once_it_passes_the_ceiling(app: Any, path: str) -> None:
    # No Content-Length: the body arrives in parts, and the ceiling is counted as they come.
    chunks = [b'{"responses": {}, ' + b" " * 2000, b" " * 2000, b" " * 2000, b"}"]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    read: list[int] = []

    async def receive() -> dict[str, Any]:
        read.append(1)
        return messages.pop(0)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 1), "server": ("t", 80),
        "headers": [(b"authorization", f"Bearer {app.state.test_token}".encode()),
                    (b"content-type", b"application/json")],
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert len(read) == 3  # the fourth part was never asked for


async def test_a_declared_length_past_the_ceiling_is_refused_before_reading() -> None:
    asked: list[int] = []

    async def receive() -> dict[str, Any]:
        asked.append(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {"headers": [(b"content-length", str(LIMIT + 1).encode())]}
    with pytest.raises(HTTPException) as refused:
        await limited(scope, receive, LIMIT)()
    assert refused.value.status_code == 413
    assert asked == []
    within = {"headers": [(b"content-length", b"2")]}
    assert (await limited(within, receive, LIMIT)())["body"] == b"{}"
