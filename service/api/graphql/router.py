"""Mounting the schema at /graphql: POST only, no batching, IDE and introspection opt-in.

A plain FastAPI route rather than Strawberry's GraphQLRouter, whose per-request machinery
(a dependency chain around the context, a request adapter, a sub-response, the GET,
multipart and streaming branches) was about a tenth of a ``score`` request's CPU; it also
mounted a websocket route this schema has no use for. The context dependency authenticates
before the operation is parsed: a missing or bad key is a 401. The route is on the fast
lane (service/api/rest/fast_lane.py), which reads the body first, within the app's ceiling
(service/api/body_limit.py). Execution: execution.py.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from service.api.deps import PrincipalDep
from service.api.graphql.context import ContextDep
from service.api.graphql.execution import OperationRunner, UnknownOperation
from service.api.graphql.request import BadRequest, read_operation
from service.api.graphql.schema import build_schema
from service.settings import Settings

PATH = "/graphql"


def graphql_router(settings: Settings) -> APIRouter:
    runner = OperationRunner(build_schema(), introspection=settings.graphql_introspection)
    router = APIRouter()

    @router.post(PATH)
    async def graphql(request: Request, context: ContextDep) -> Response:
        try:
            operation = read_operation(request.headers.get("content-type"), await request.body())
            answer = await runner.run(operation, context)
        except (BadRequest, UnknownOperation) as refused:
            return PlainTextResponse(str(refused), status_code=400)
        return Response(orjson.dumps(answer), media_type="application/json")

    if settings.graphql_ide:
        page = get_graphql_ide_html("graphiql")

        @router.get(PATH)
        async def graphiql(request: Request, _: PrincipalDep) -> Response:
            """The IDE page, for a valid key as before; never a query (no GETs that read)."""
            if request.query_params:
                return PlainTextResponse(
                    "GraphQL queries are served over POST only.", 405, headers={"Allow": "POST"}
                )
            return HTMLResponse(page)

    return router
