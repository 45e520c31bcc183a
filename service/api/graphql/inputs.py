"""Input types whose fields graphql-core has already coerced: built without re-conversion.

Strawberry converts every input value field by field, resolving each field's type and name
again on every call; for ``[ResponseInput!]!`` that was most of the cost of the ``score``
query's arguments. An input made only of required built-in scalars needs none of it:
graphql-core has checked and coerced each value (a ``Float!`` is a float) before any
resolver runs, so the object is built straight from them. Strawberry offers the hook for
this, ``from_input`` on the type's definition; the schema (SDL) is not affected. The same
builder serves the converters of compiled_resolvers.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

T = TypeVar("T", bound=type)

Builder = Callable[[Mapping[str, Any]], Any]

_SCALARS = (str, int, float, bool)
_builders: dict[type, Builder] = {}


def prebuilt_scalars(cls: T) -> T:
    """Build ``cls``, a ``@strawberry.input`` of required built-in scalar fields, from the
    coerced value directly. Any other input is refused at import."""
    definition = get_object_definition(cls, strict=True)
    if not definition.is_input:
        raise TypeError(f"{cls.__name__} is not an input type")
    names: list[tuple[str, str]] = []
    for field in definition.fields:
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        if has_default or field.type not in _SCALARS:
            raise TypeError(f"{cls.__name__}.{field.python_name} is not a required scalar")
        # The schema's names: camelCase (Strawberry's default), unless given explicitly.
        names.append((field.graphql_name or to_camel_case(field.python_name), field.python_name))

    def from_input(kind: type, value: Mapping[str, Any], context: InputContext) -> Any:
        return kind(**{python: value[graphql] for graphql, python in names})

    def build(value: Mapping[str, Any]) -> Any:
        return cls(**{python: value[graphql] for graphql, python in names})

    definition.from_input = from_input
    _builders[cls] = build
    return cls


def builder(kind: object) -> Builder | None:
    """How to build ``kind`` from its coerced value, if it is a ``prebuilt_scalars`` input."""
    return _builders.get(kind) if isinstance(kind, type) else None
