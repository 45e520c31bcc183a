"""SMART Backend Services over HTTP: discovery and the token endpoint (service/app/smart.py).

Errors here are OAuth 2 error responses (RFC 6749 section 5.2), not problem+json: that is
what OAuth clients read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from service.api.deps import ServicesDep
from service.app import smart

router = APIRouter(tags=["smart"])
_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_url(request: Request, public_url: str | None) -> str:
    base = public_url or str(request.base_url).rstrip("/")
    return f"{base}/auth/token"


@router.get(
    "/.well-known/smart-configuration",
    summary="SMART configuration: how a backend client gets an access token",
)
@router.get("/fhir/R4/.well-known/smart-configuration", include_in_schema=False)
async def smart_configuration(request: Request, services: ServicesDep) -> dict[str, Any]:
    return {
        "token_endpoint": _token_url(request, services.settings.public_url),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(smart.ALGORITHMS),
        "scopes_supported": sorted(
            f"system/{t}.{p}" for t in smart.RESOURCE_TYPES for p in ("rs", "cud", "cruds")
        ),
        "capabilities": ["client-confidential-asymmetric", "permission-v2", "permission-v1"],
    }


@router.post(
    "/auth/token",
    summary="Get an access token (client credentials with a private_key_jwt assertion)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                _FORM: {
                    "schema": {
                        "type": "object",
                        "required": [
                            "grant_type",
                            "client_assertion_type",
                            "client_assertion",
                            "scope",
                        ],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_assertion_type": {
                                "type": "string",
                                "enum": [smart.ASSERTION_TYPE],
                            },
                            "client_assertion": {"type": "string"},
                            "scope": {"type": "string", "example": "system/*.rs"},
                        },
                    }
                }
            },
        },
        "responses": {
            "400": {"description": "An OAuth 2 error response (`error`, `error_description`)"},
            "401": {"description": "invalid_client: the client or its assertion is refused"},
        },
    },
)
async def token(request: Request, services: ServicesDep) -> JSONResponse:
    try:
        form = await _form(request)
        grant = await services.tokens.grant(form, _token_url(request, services.settings.public_url))
    except smart.OAuthError as error:
        return JSONResponse(
            {"error": error.error, "error_description": error.description},
            status_code=error.status,
            headers=_NO_STORE,
        )
    body = {
        "access_token": grant.access_token,
        "token_type": "bearer",
        "expires_in": grant.expires_in,
        "scope": grant.scope,
    }
    return JSONResponse(body, headers=_NO_STORE)


async def _form(request: Request) -> dict[str, str]:
    """The form's parameters; each at most once (RFC 6749 section 3.2)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        raise smart.OAuthError("invalid_request", f"Send the request as {_FORM}.")
    try:
        pairs = parse_qsl((await request.body()).decode(), strict_parsing=True, max_num_fields=20)
    except (ValueError, UnicodeDecodeError) as exc:
        raise smart.OAuthError("invalid_request", "The form body cannot be read.") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise smart.OAuthError("invalid_request", "A parameter was sent more than once.")
    return form
