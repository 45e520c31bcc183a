"""The ASGI application: one FastAPI app carrying every adapter.

Every request passes through FastAPI's routing, dependencies and middleware. Layers wrap
the routes, outermost first: the request id, access log and metrics layer
(service/api/observe.py), the ceiling on request bodies (service/api/body_limit.py), the
refusal of JSON that repeats a key (service/api/json_keys.py), and the masking of
unexpected errors (service/api/rest/problems.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from service import __version__
from service.api import metrics
from service.api.body_limit import BodyLimit
from service.api.charts.render import warm_up as warm_up_charts
from service.api.docs import add_docs
from service.api.fhir import routes as fhir
from service.api.graphql.operation_loop import OperationLoop
from service.api.graphql.router import graphql_router
from service.api.json_keys import UniqueKeys
from service.api.observe import METRICS_PATH, Observed, Observer, RouteTemplates
from service.api.openapi import build_openapi, operation_id
from service.api.page.access_log import HIDE_VIEW_TOKENS
from service.api.rest.problems import add_problem_handlers
from service.api.rest.routes import (
    administrations,
    alerts,
    audit,
    charts,
    dyads,
    health,
    insights,
    instruments,
    people,
    smart,
    view,
    webhooks,
)  # fmt: skip
from service.bootstrap import Services, build_services
from service.settings import Settings, get_settings

GC_THRESHOLDS = (50_000, 20, 100)  # CPython's defaults are (700, 10, 10)
SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005

DESCRIPTION = """\
Rapport scores standardized alliance and outcome questionnaires used in psychotherapy,
tracks change over sessions and compares the client's and the therapist's view of the
alliance. Errors are RFC 9457 `application/problem+json` documents with a stable `code`.
"""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app: every request passes through FastAPI's routing, dependencies and middleware."""
    settings = settings or get_settings()
    graphql_operations = OperationLoop()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or build_services(settings)
        app.state.services = built
        # Everything built so far lives as long as the process: move it out of the
        # collector's way, so full collections under load stay short (bench/README.md).
        gc.collect()
        gc.freeze()
        # Fewer, later collections: a GraphQL answer near the cost limit is a few million
        # short-lived objects, and with the default thresholds the full collections they
        # triggered held the interpreter for hundreds of milliseconds, every thread of the
        # process waiting (bench/graphql_cost.py: /healthz p99 beside the heaviest document).
        gc.set_threshold(*GC_THRESHOLDS)
        # GraphQL operations run in a thread of their own (graphql/operation_loop.py): the
        # event loop waits at most this long for the interpreter when it has work to do.
        sys.setswitchinterval(SWITCH_INTERVAL)
        # vl-convert's first drawing in a process costs about 0.6 s: pay it now, beside the
        # first requests rather than in the first chart's (service/api/charts/render.py).
        threading.Thread(target=warm_up_charts, name="chart-warm-up", daemon=True).start()
        # The webhook delivery worker: only where an operator allowed a receiving host.
        stop = asyncio.Event()
        sending = (
            asyncio.create_task(built.delivery.run(stop)) if built.settings.webhook_hosts else None
        )
        try:
            yield
        finally:
            stop.set()
            if sending is not None:
                await sending
            graphql_operations.close()
            if services is None:
                built.close()

    app = FastAPI(
        title="Rapport",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served from installed files below, not from a CDN
        redoc_url=None,
    )
    add_docs(app, "Rapport")
    add_problem_handlers(app)
    # View links are credentials: their tokens never reach the access log.
    logging.getLogger("uvicorn.access").addFilter(HIDE_VIEW_TOKENS)
    # Routers are matched in order, at about 2 us per route passed: /graphql first saves its
    # requests a walk past every REST route (~65 us), for ~3 us on the others
    # (bench/README.md); then the busiest REST routes: storing administrations, scoring.
    app.include_router(
        graphql_router(settings, graphql_operations), prefix="", include_in_schema=False
    )
    app.include_router(dyads.router)
    app.include_router(instruments.router)
    app.include_router(health.router)
    app.include_router(people.router)
    app.include_router(insights.router)
    app.include_router(alerts.router)
    app.include_router(smart.router)
    app.include_router(webhooks.router)
    app.include_router(administrations.router)
    app.include_router(charts.router)
    app.include_router(view.router)
    app.include_router(audit.router)
    app.include_router(fhir.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Outside the exception middleware, so a refusal raised while a route reads its body is
    # answered by the app's handlers, in each adapter's format: a JSON object that repeats a
    # key (service/api/json_keys.py) inside the ceiling on the body's size.
    app.add_middleware(UniqueKeys)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.metrics != "off":
        metrics.install()
    serve_metrics = settings.metrics == "on"
    templates = RouteTemplates(app.routes, extra=[METRICS_PATH] if serve_metrics else [])
    # Added last, so outermost: every request, refused or served, gets its id, its access
    # line and its metrics.
    app.add_middleware(Observed, observer=Observer(templates, serve_metrics))
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema
