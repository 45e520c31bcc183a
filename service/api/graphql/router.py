"""Mounting the schema at /graphql: POST only, no batching, IDE and introspection opt-in."""

from __future__ import annotations

from typing import Any

from strawberry.fastapi import GraphQLRouter

from service.api.graphql.context import get_context
from service.api.graphql.schema import build_schema
from service.settings import Settings


def graphql_router(settings: Settings) -> GraphQLRouter[Any, None]:
    schema = build_schema(introspection=settings.graphql_introspection)
    return GraphQLRouter(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if settings.graphql_ide else None,
        allow_queries_via_get=False,  # no state-changing or PHI-reading GETs from a link
        context_getter=get_context,
        multipart_uploads_enabled=False,
    )
