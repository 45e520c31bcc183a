"""Check raw answers against a definition's items, naming every offending item.

The common case (a whole number in range) takes a fast path; everything else goes through
``_number``, which explains precisely what is wrong with the value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from service.domain.errors import FieldError, InvalidResponses, ValidationFailed


class ItemSpec(NamedTuple):
    position: int
    low: float
    high: float
    integer: bool
    reverse_base: float | None  # keyed value = reverse_base - answer for reverse-keyed items


def validate(
    specs: Mapping[str, ItemSpec], ids: tuple[str, ...], responses: Mapping[str, object], name: str
) -> tuple[list[float | None], list[float | None]]:
    """Answers by item position, as given (raw) and after reverse keying (keyed)."""
    if len(responses) > 2 * len(ids) + 20:
        # Refuse at once rather than explain each of 100,000 unknown items.
        raise ValidationFailed(
            f"{len(responses)} responses for a {len(ids)}-item instrument.",
            (FieldError("responses", "too-many-responses", f"At most {len(ids)} items."),),
        )
    raw: list[float | None] = [None] * len(ids)
    keyed: list[float | None] = [None] * len(ids)
    errors: list[FieldError] = []
    for item_id, value in responses.items():
        spec = specs.get(item_id)
        if spec is None:
            errors.append(FieldError(item_id, "unknown-item", _unknown(item_id, ids)))
            continue
        position, low, high, _integer, reverse_base = spec
        # Fast path: a whole number in range (type() excludes bool, a subclass of int).
        if type(value) is int and low <= value <= high:
            number: float = value
        elif value is None:
            continue
        else:
            checked = _number(item_id, value, spec, errors)
            if checked is None:
                continue
            number = checked
        raw[position] = number
        keyed[position] = number if reverse_base is None else reverse_base - number
    if errors:
        errors.sort(key=lambda e: _natural(e.field))
        names = ", ".join(e.field for e in errors)
        raise InvalidResponses(
            f"{len(errors)} response(s) do not fit {name}: {names}", tuple(errors)
        )
    return raw, keyed


def _number(item_id: str, value: object, spec: ItemSpec, errors: list[FieldError]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a whole number" if spec.integer else "a number"
        errors.append(FieldError(item_id, "wrong-type", f"Expected {kind}, got {_kind(value)}."))
        return None
    number = float(value)
    if not math.isfinite(number):
        errors.append(FieldError(item_id, "wrong-type", "Expected a finite number."))
        return None
    if spec.integer and not number.is_integer():
        errors.append(FieldError(item_id, "not-integer", f"Expected a whole number, got {value}."))
        return None
    if not spec.low <= number <= spec.high:
        errors.append(
            FieldError(
                item_id,
                "out-of-range",
                f"{value} is outside the response range {_fmt(spec.low)} to {_fmt(spec.high)}.",
            )
        )
        return None
    return number


def _fmt(x: float) -> str:
    return str(int(x)) if x.is_integer() else str(x)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _unknown(item_id: str, ids: tuple[str, ...]) -> str:
    return f"'{item_id}' is not an item of this instrument (items: {', '.join(ids)})."


def _natural(field: str) -> tuple[int, str]:
    return (int(field), "") if field.isdigit() else (10**9, field)
