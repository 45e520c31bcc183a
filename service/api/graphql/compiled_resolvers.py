"""Resolvers called with arguments converted by a function built once per field.

On every call, Strawberry converts a resolver's arguments by dispatching on each argument's
type (Maybe? Optional? list? scalar? enum? input?) and chains the call through a wrapper
built per call: for ``score``, whose nine responses each go through that dispatch, about a
seventh of the request's CPU. Yet for arguments that are built-in scalars, inputs built
straight from their coerced value (inputs.py), and optionals and lists of those, the
conversion is fully known when the schema is built. ``compile_resolvers`` builds it then,
once per field, and has graphql-core call the resolver function through it, with the same
``self``, ``Info`` and keyword arguments Strawberry would pass.

A field with anything else keeps Strawberry's resolver untouched: other input types or
scalars, field extensions or permission classes, ``root``/``parent`` parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

from service.api.graphql.inputs import builder

Converter = Callable[[Any], Any]

# Values graphql-core has coerced and Strawberry passes on as they are.
_SCALARS: tuple[object, ...] = (str, int, float, bool, strawberry.ID)


def _same(value: Any) -> Any:
    return value


def converter(kind: object) -> Converter | None:
    """The conversion Strawberry would apply to a coerced value of ``kind``; None: not one
    this module reproduces."""
    if isinstance(kind, StrawberryMaybe):
        return None
    if isinstance(kind, StrawberryOptional):
        inner = converter(kind.of_type)
        if inner is None or inner is _same:
            return inner
        return lambda value: None if value is None else inner(value)
    if isinstance(kind, StrawberryList):
        item = converter(kind.of_type)
        if item is None:
            return None
        if item is _same:
            return list  # a copy, as Strawberry makes: defaults are shared between requests
        return lambda values: [item(value) for value in values]
    if kind in _SCALARS:
        return _same
    return builder(kind)


def _compiled(field: StrawberryField, schema: strawberry.Schema) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    if resolver is None or field.extensions:
        return None
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    plan: list[tuple[str, str, Converter]] = []
    for argument in field.arguments:
        convert = converter(argument.type)
        if convert is None or argument.python_name is None:
            return None
        name = schema.config.name_converter.from_argument(argument)
        plan.append((name, argument.python_name, convert))
    function = resolver.wrapped_func
    if not callable(function):
        return None  # Strawberry's own resolver reports it
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    takes_self = resolver.self_parameter is not None
    info_class = schema.config.info_class

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **raw: Any) -> Any:
        kwargs = {python: convert(raw[name]) for name, python, convert in plan if name in raw}
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return resolve


def compile_resolvers(schema: strawberry.Schema) -> list[str]:
    """Rewire every field it can; returns their names (``Type.field``)."""
    compiled = []
    for type_name, kind in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(kind, GraphQLObjectType):
            continue
        for field_name, graphql_field in kind.fields.items():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if isinstance(field, StrawberryField) and (resolve := _compiled(field, schema)):
                graphql_field.resolve = resolve
                compiled.append(f"{type_name}.{field_name}")
    return compiled
