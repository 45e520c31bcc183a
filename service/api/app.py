"""The ASGI application: one FastAPI app carrying every adapter."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from service import __version__
from service.api.body_limit import limited
from service.api.fhir import routes as fhir
from service.api.graphql.router import graphql_router
from service.api.json_keys import unique_keys
from service.api.openapi import build_openapi, operation_id
from service.api.rest.fast_lane import FastLane
from service.api.rest.problems import add_problem_handlers
from service.api.rest.routes import alerts, audit, dyads, health, insights, instruments, people
from service.bootstrap import Services, build_services
from service.settings import Settings, get_settings

DESCRIPTION = """\
Rapport scores standardized alliance and outcome questionnaires used in psychotherapy,
tracks change over sessions and compares the client's and the therapist's view of the
alliance. Errors are RFC 9457 `application/problem+json` documents with a stable `code`.
"""


FAST_LANE = (
    "POST /v1/dyads/{dyad_id}/administrations",
    "POST /v1/instruments/{instrument_id}/score",
    "POST /graphql",
)


class Rapport(FastAPI):
    """FastAPI, with a ceiling on request bodies (service/api/body_limit.py) and a fast lane
    for the busiest routes (service/api/rest/fast_lane.py)."""

    body_limit: int = 1_048_576
    fast_lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            receive = unique_keys(scope, limited(scope, receive, self.body_limit))
            if self.fast_lane is not None:
                passed_on = await self.fast_lane.serve(scope, receive, send)
                if passed_on is None:
                    return
                receive = passed_on
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None, services: Services | None = None, fast_lane: bool = True
) -> FastAPI:
    """The app; ``fast_lane=False`` serves every request through FastAPI alone (the fast
    lane's tests compare the two)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or build_services(settings)
        app.state.services = built
        # Everything built so far lives as long as the process: move it out of the
        # collector's way, so full collections under load stay short (bench/README.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if services is None:
                built.close()

    app = Rapport(
        title="Rapport",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url="/docs",
        redoc_url=None,
    )
    add_problem_handlers(app)
    # Routers are matched in order, at about 2 us per route passed: /graphql first saves its
    # requests a walk past every REST route (~65 us), for ~3 us on the others
    # (bench/README.md); then the busiest REST routes: storing administrations, scoring.
    app.include_router(graphql_router(settings), prefix="", include_in_schema=False)
    app.include_router(dyads.router)
    app.include_router(instruments.router)
    app.include_router(health.router)
    app.include_router(people.router)
    app.include_router(insights.router)
    app.include_router(alerts.router)
    app.include_router(audit.router)
    app.include_router(fhir.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.body_limit = settings.max_body_bytes
    if fast_lane:
        # Storing an administration and stateless scoring, over REST and GraphQL: most of
        # what EHRs send.
        app.fast_lane = FastLane(app, FAST_LANE)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema
