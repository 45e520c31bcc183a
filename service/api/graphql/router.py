"""Mounting the schema at /graphql: POST only, no batching, IDE and introspection opt-in.

A FastAPI route reads one operation (request.py: JSON only, a single object) and hands it
to Strawberry's ``Schema.execute``, which parses, limits, validates, caches, executes and
masks through the schema's extensions (extensions.py). The context dependency (context.py)
authenticates before the operation is parsed: a missing or bad key is a 401. The body is
bounded by the app's ceiling (service/api/body_limit.py) like every route's.

Each operation, its answer serialised, runs on a loop of its own (operation_loop.py): the
guard bounds what a document can ask for (guard.py), and what is left of a large answer is
no reason to hold the server's event loop from other requests.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from strawberry.fastapi import GraphQLRouter

from service.api.deps import PrincipalDep
from service.api.graphql.context import Context, ContextDep
from service.api.graphql.extensions import UNKNOWN_OPERATION
from service.api.graphql.operation_loop import OperationLoop
from service.api.graphql.request import BadRequest, Operation, read_operation
from service.api.graphql.schema import build_schema
from service.settings import Settings

PATH = "/graphql"


def graphql_router(settings: Settings, operations: OperationLoop) -> APIRouter:
    """/graphql; ``operations`` runs each operation off the server's event loop."""
    schema = build_schema(introspection=settings.graphql_introspection)
    router = APIRouter()

    async def answer(operation: Operation, context: Context) -> bytes | Response:
        """Run on the operation loop: the answer's bytes, or a refusal."""
        result = await schema.execute(
            operation.query,
            variable_values=operation.variables,
            context_value=context,
            operation_name=operation.name,
        )
        for error in result.errors or ():
            if (error.extensions or {}).get("code") == UNKNOWN_OPERATION:
                return _refused(error.message, UNKNOWN_OPERATION)
        body: dict[str, object] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        return orjson.dumps(body)

    @router.post(PATH)
    async def graphql(request: Request, context: ContextDep) -> Response:
        try:
            operation = read_operation(request.headers.get("content-type"), await request.body())
        except BadRequest as refused:
            return _refused(str(refused), refused.code)
        context.requested_operation = operation.name
        done = await operations.run(answer(operation, context))
        if isinstance(done, Response):
            return done
        return Response(done, media_type="application/json")

    if settings.graphql_ide:
        # Strawberry's GraphiQL page, as its own router would serve it.
        page = GraphQLRouter(schema, graphql_ide="graphiql").graphql_ide_html

        @router.get(PATH)
        async def graphiql(request: Request, _: PrincipalDep) -> Response:
            """The IDE page, for a valid key as before; never a query (no GETs that read)."""
            if request.query_params:
                return PlainTextResponse(
                    "GraphQL queries are served over POST only.", 405, headers={"Allow": "POST"}
                )
            return HTMLResponse(page)

    return router


def _refused(message: str, code: str) -> Response:
    """HTTP 400 with a GraphQL error: a request that is not one operation to run."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")
