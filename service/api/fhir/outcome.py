"""FHIR errors: every failure under /fhir/R4 answers with an OperationOutcome.

A route class wraps the FHIR handlers, so validation, authentication and domain errors are
mapped here, once, and never leave the FHIR face as problem+json.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.api.fhir.http import unacceptable_format
from service.api.fhir.search import SearchRefused
from service.api.fhir.terms import FHIR_JSON
from service.api.refusals import audit_refusal
from service.api.rest.problems import status_for
from service.domain.errors import DomainError, FieldError, ValidationFailed

log = logging.getLogger("rapport.fhir")

_ISSUE_CODE = {401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 503: "transient"}


def operation_outcome(
    status: int, diagnostics: str, details: Sequence[FieldError] = (), code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    issue_code = code or _ISSUE_CODE.get(status, "invalid" if status < 500 else "exception")
    issues: list[dict[str, Any]] = [
        {
            "severity": "error",
            "code": issue_code,
            "diagnostics": e.message,
            "details": {"text": e.code},
            "expression": [e.field],
        }
        for e in details
    ] or [{"severity": "error", "code": issue_code, "diagnostics": diagnostics}]
    body = {"resourceType": "OperationOutcome", "issue": issues}
    if status == 401:
        headers = (headers or {}) | {"WWW-Authenticate": 'Bearer realm="rapport"'}
    return Response(orjson.dumps(body), status, headers=headers, media_type=FHIR_JSON)


class FhirRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            refused = unacceptable_format(request)
            if refused is not None:
                return operation_outcome(406, refused, code="not-supported")
            try:
                return await handler(request)
            except SearchRefused as error:
                return operation_outcome(
                    400,
                    error.message,
                    (FieldError(error.parameter, error.code, error.message),),
                    code=error.code,
                )
            except DomainError as error:
                response = _domain(error)
                await audit_refusal(request, error, response.status_code, error.code)
                return response
            except RequestValidationError as error:
                await audit_refusal(request, error, 422, "validation-failed")
                return operation_outcome(422, "Invalid request.", _validation(error))
            except HTTPException as error:
                await audit_refusal(request, error, error.status_code, f"http-{error.status_code}")
                return operation_outcome(error.status_code, str(error.detail))
            except Exception as error:
                incident = uuid.uuid4().hex
                log.exception("unexpected FHIR error (incident %s)", incident)
                await audit_refusal(request, error, 500, f"internal-error incident {incident}")
                return operation_outcome(500, f"Unexpected error; incident {incident}.")

        return guarded


def _domain(error: DomainError) -> Response:
    status = status_for(error)
    if status >= 500:
        incident = uuid.uuid4().hex
        log.error("FHIR request failed (incident %s)", incident, exc_info=error)
        return operation_outcome(status, f"Unexpected error; incident {incident}.")
    details = error.errors if isinstance(error, ValidationFailed) else ()
    return operation_outcome(status, error.detail, details)


def _validation(error: RequestValidationError) -> list[FieldError]:
    found = []
    for e in error.errors():
        loc = ".".join(str(part) for part in e.get("loc", ()) if part != "body")
        found.append(FieldError(loc or "body", str(e.get("type", "invalid")), str(e.get("msg"))))
    return found
