"""HTTP semantics of the FHIR face: JSON only, versioned reads, and the Prefer header.

- Rapport speaks FHIR JSON only: ``_format`` may name JSON (``json``, ``application/json``,
  ``application/fhir+json``); a request for XML, by ``_format`` or by an ``Accept`` that
  admits no JSON, answers 406 (FHIR R4 http.html#mime-type).
- A read carries ``meta.versionId`` and ``meta.lastUpdated`` and the matching weak ``ETag``
  (``W/"<versionId>"``).
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from service.api.fhir.terms import FHIR_JSON

JSON_FORMATS = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir"}
)
_ACCEPTABLE = JSON_FORMATS | {"*/*", "application/*"}


def unacceptable_format(request: Request) -> str | None:
    """Why the request cannot be answered in JSON, or None when it can."""
    given = request.query_params.get("_format")
    if given is not None and given.split(";")[0].strip().lower() not in JSON_FORMATS:
        return f"_format={given!r}: Rapport answers FHIR JSON only (_format=json)."
    accept = request.headers.get("accept")
    if not accept:
        return None
    for part in accept.split(","):
        media, *options = (p.strip() for p in part.split(";"))
        rejected = any(o.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for o in options)
        if media.lower() in _ACCEPTABLE and not rejected:
            return None
    return f"Accept: {accept!r}: Rapport answers FHIR JSON only (application/fhir+json)."


def fhir(
    body: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = b"" if body is None else orjson.dumps(body)
    return Response(content, status, headers=headers, media_type=FHIR_JSON)


def versioned(resource: dict[str, Any], version: int, updated: datetime) -> dict[str, Any]:
    """The resource with its version metadata, first among its elements after the id."""
    meta = dict(resource.get("meta", {}))
    meta["versionId"] = str(version)
    meta["lastUpdated"] = updated.isoformat()
    head = {"resourceType": resource["resourceType"], "id": resource["id"], "meta": meta}
    return head | {k: v for k, v in resource.items() if k not in head}


def read(resource: dict[str, Any], status: int = 200, location: str | None = None) -> Response:
    """A versioned resource as a read answers it: with its ETag (and a Location on create)."""
    headers = {"ETag": f'W/"{resource["meta"]["versionId"]}"'}
    updated = resource["meta"]["lastUpdated"]
    headers["Last-Modified"] = _http_date(updated)
    if location is not None:
        headers["Location"] = location
    return fhir(resource, status, headers)


def _http_date(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso), usegmt=True)
