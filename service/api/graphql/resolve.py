"""Calling use cases from resolvers: domain errors become GraphQL errors with stable codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from service.api.graphql.errors import as_graphql_error
from service.domain.errors import DomainError, NotFound

T = TypeVar("T")
P = ParamSpec("P")


def domain_value(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``domain_call`` for a synchronous use case, in a synchronous resolver."""
    try:
        return call(*args, **kwargs)
    except DomainError as error:
        raise as_graphql_error(error) from error


async def domain_call(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except DomainError as error:
        raise as_graphql_error(error) from error


async def or_none(awaitable: Awaitable[T]) -> T | None:
    """Not found is null in queries: another tenant's object is indistinguishable from none."""
    try:
        return await awaitable
    except NotFound:
        return None
    except DomainError as error:
        raise as_graphql_error(error) from error
