"""Reading a POST to /graphql: one operation as a JSON object, nothing else.

Refused with HTTP 400 and a GraphQL error (``extensions.code``: ``malformed-json`` as over
REST and FHIR for a body that is not JSON, else ``bad-request``), as the GraphQL-over-HTTP
specification asks of a request that is not one: a body that is not JSON, not sent
as ``application/json``, a JSON array (batching is off), or fields of the wrong type. No
multipart uploads, no persisted queries, no ``extensions`` (ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

MALFORMED_JSON = "malformed-json"  # REST's problem code and FHIR's for the same body


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation as a client posts it."""

    query: str
    variables: dict[str, Any] | None = None
    name: str | None = None


class BadRequest(Exception):
    """Not a GraphQL request this endpoint serves: HTTP 400 with this reason and a code."""

    def __init__(self, reason: str, code: str = "bad-request") -> None:
        super().__init__(reason)
        self.code = code


def read_operation(content_type: str | None, body: bytes) -> Operation:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest("Unsupported content type")
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:  # not JSON, not UTF-8, or nested past orjson's 1,024 levels
        raise BadRequest("Unable to parse request body as JSON", MALFORMED_JSON) from None
    if isinstance(data, list):
        raise BadRequest("Batching is not enabled")
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if not isinstance(query, str | None):
        raise BadRequest("The GraphQL operation's `query` must be a string")
    if not query:
        raise BadRequest("No GraphQL query found in the request")
    if not isinstance(variables, dict | None):
        raise BadRequest("The GraphQL operation's `variables` must be an object or null")
    if not isinstance(name, str | None):
        raise BadRequest("The GraphQL operation's `operationName` must be a string or null")
    return Operation(query, variables, name)
