"""Mounting the schema at /graphql with Strawberry's FastAPI router: POST only, no batching.

``GraphQLRouter`` reads the request (JSON only: multipart uploads are off, and batching
unless enabled), runs the operation through ``Schema.execute`` with the schema's extensions
(extensions.py) and answers. The context dependency (context.py) authenticates before the
operation is parsed: a missing or bad key is a 401. Queries over GET are refused; GET serves
the GraphiQL page only when ``RAPPORT_GRAPHQL_IDE`` is on. The body is bounded by the app's
ceiling (service/api/body_limit.py) like every other route's.
"""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter

from service.api.graphql.context import Context, get_context
from service.api.graphql.schema import build_schema
from service.settings import Settings

PATH = "/graphql"


def graphql_router(settings: Settings) -> GraphQLRouter[Context, None]:
    return GraphQLRouter(
        build_schema(introspection=settings.graphql_introspection),
        path=PATH,
        graphql_ide="graphiql" if settings.graphql_ide else None,
        allow_queries_via_get=False,
        context_getter=get_context,
        subscription_protocols=(),  # the schema has no subscriptions: no websocket protocol
        include_in_schema=False,
    )
