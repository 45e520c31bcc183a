"""Searchset Bundles: matches with absolute fullUrls, a self link, and a next link that works.

``total`` is given when it is known without counting: on the last page of a search (and on
single-page answers). The next link carries the same parameters and Rapport's opaque
``_cursor``; following it continues after the last match of the page, so a page costs the
same at any depth.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from service.api.fhir.search import Params


def base_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/fhir/R4"


def searchset(
    request: Request, kind: str, resources: list[dict[str, Any]], params: Params,
    next_cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    base = base_url(request)
    here = f"{base}/{kind}"
    links = [{"relation": "self", "url": _url(here, params.query())}]
    if next_cursor is not None:
        links.append({"relation": "next", "url": _url(here, params.query(next_cursor))})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if next_cursor is None and "_cursor" not in params.used:
        bundle["total"] = len(resources)
    bundle["link"] = links
    bundle["entry"] = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    return bundle


def _url(here: str, pairs: list[tuple[str, str]]) -> str:
    return f"{here}?{urlencode(pairs)}" if pairs else here
