"""GraphQL objects built from the bodies REST answers (service/app/insight_bodies.py,
service/app/rendering.py): the field names are the same, so one walk over the type's
dataclass fields fills it, nested types and lists of them included."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def from_body(kind: type[T], body: Mapping[str, Any]) -> T:
    """``kind`` (a Strawberry type) with the fields of ``body`` it publishes; keys it does
    not publish are left out, nested objects and lists of them built the same way."""
    hints = _hints(kind)
    return kind(**{name: _value(hints[name], body[name]) for name in hints if name in body})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type) -> dict[str, Any]:
    """The type's fields with their resolved annotations (worked out once per type)."""
    found = _HINTS.get(kind)
    if found is None:
        resolved = typing.get_type_hints(kind)
        fields = dataclasses.fields(typing.cast(Any, kind))
        # Fields a resolver computes (a Dyad's patient) are not given: no annotation here.
        found = _HINTS[kind] = {f.name: resolved[f.name] for f in fields if f.name in resolved}
    return found


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_value(item, v) for v in value]
    if origin in (typing.Union, types.UnionType):
        present = [a for a in typing.get_args(hint) if a is not type(None)]
        return _value(present[0], value) if len(present) == 1 else value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return from_body(hint, value)
    return value


__all__ = ["from_body"]
