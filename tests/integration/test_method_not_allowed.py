"""A 405 names, in ``Allow``, every method its path supports (issue 16, item 8).

Before, ``OPTIONS /v1/patients`` answered 405 with ``Allow: POST``: Starlette took the
methods of the first route matching the path, and GET serves the same path from another.
Every /v1 path of the route table is tried with each method it does not support."""

from __future__ import annotations

from collections import defaultdict

import httpx

from service.api.app import create_app
from service.settings import Settings
from tests.integration.route_matrix_support import fill, route_cases

APP = create_app(Settings(database_url="sqlite:///unused.db"))  # never started: routes only
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
VALUES = {"instrument_id": "phq-9"}
OBJECTS = (
    "patient_id", "practitioner_id", "dyad_id", "administration_id", "alert_id", "webhook_id",
    "delivery_id",
)  # fmt: skip
ANY_ID = "00000000-0000-7000-8000-000000000000"


async def test_every_405_allows_every_method_of_its_path() -> None:
    served: dict[str, set[str]] = defaultdict(set)
    for route in route_cases(APP, "/v1"):
        served[route.path].add(route.method)
    assert served["/v1/patients"] >= {"GET", "POST"}
    failures = []
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
        for path, methods in sorted(served.items()):
            url = fill(path, VALUES | dict.fromkeys(OBJECTS, ANY_ID))
            for method in METHODS:
                if method in methods:
                    continue
                r = await c.request(method, url)
                allow = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
                if r.status_code != 405 or not methods <= allow:
                    failures.append(f"{method} {path}: {r.status_code}, Allow {sorted(allow)}, "
                                    f"expected {sorted(methods)}")  # fmt: skip
    assert failures == []
