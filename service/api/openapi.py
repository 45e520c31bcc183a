"""The published OpenAPI document, made to say exactly what the service sends.

FastAPI documents every 422 as its own ``HTTPValidationError`` in ``application/json``;
Rapport answers ``application/problem+json`` under ``/v1`` and an OperationOutcome in
``application/fhir+json`` under ``/fhir/R4``. Generated clients and fuzzers read this
document, so it is corrected here, once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from service.api.rest.schemas.problem import Problem

FHIR_JSON = "application/fhir+json"
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
FHIR_RESOURCE = {
    "type": "object",
    "title": "FhirResource",
    "description": "A FHIR R4 resource (JSON); see docs/fhir.md",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
    "additionalProperties": True,
}
OUTCOME = {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirResource"}}}
_FHIR_ERRORS = {
    "400": "Unknown or invalid search parameter, unless Prefer: handling=lenient "
    "(OperationOutcome)",
    "401": "Missing or invalid bearer token (OperationOutcome)",
    "403": "The API key lacks the scope (OperationOutcome)",
    "406": "A format other than FHIR JSON was asked for (OperationOutcome)",
    "404": "Not found (OperationOutcome)",
    "422": "Invalid request (OperationOutcome naming each offending element)",
}


def operation_id(route: APIRoute) -> str:
    """Stable operation ids from the handler's name (``create_patient``), not from paths."""
    return route.name


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    components["FhirResource"] = FHIR_RESOURCE
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith("/fhir/"):
                _fhir(operation)
            else:
                _rest(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


_TOO_LARGE = "The body is larger than the service accepts (RAPPORT_MAX_BODY_BYTES)"


def _rest(operation: dict[str, Any]) -> None:
    responses = operation.get("responses", {})
    if "422" in responses:
        responses["422"]["content"] = PROBLEM
    if "requestBody" in operation:
        responses["413"] = {"description": _TOO_LARGE, "content": PROBLEM}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header":  # a header is absent or a string, never null
            parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}


def _fhir(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in list(responses):
        if status.startswith("2"):
            responses[status]["content"] = OUTCOME
    for status, description in _FHIR_ERRORS.items():
        responses[status] = {"description": description, "content": OUTCOME}
    body = operation.get("requestBody")
    if body is not None:
        responses["413"] = {"description": f"{_TOO_LARGE} (OperationOutcome)", "content": OUTCOME}
        body["content"] = {
            media: {"schema": {"$ref": "#/components/schemas/FhirResource"}}
            for media in (FHIR_JSON, "application/json")
        }
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header":
            parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
