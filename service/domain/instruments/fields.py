"""Strict, path-aware access to the raw tables of a definition file.

A definition is clinical data that clinics may write themselves (a licensed OQ-45, say), so
a typo must fail loudly at load time with the path of the offending key, never become a
silently ignored field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from service.domain.errors import DefinitionError

E = TypeVar("E")


class Table:
    """A TOML table that remembers where it sits and which keys were read."""

    def __init__(self, raw: object, path: str) -> None:
        if not isinstance(raw, Mapping):
            raise DefinitionError(f"{path}: expected a table")
        self._raw: Mapping[str, Any] = raw
        self._path = path
        self._read: set[str] = set()

    @property
    def path(self) -> str:
        return self._path

    def has(self, key: str) -> bool:
        return key in self._raw

    def _get(self, key: str, required: bool) -> Any:
        self._read.add(key)
        if key not in self._raw:
            if required:
                raise DefinitionError(f"{self._path}: missing required key '{key}'")
            return None
        return self._raw[key]

    def string(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str) or not value:
            raise DefinitionError(f"{self._path}.{key}: expected a non-empty string")
        return value

    def opt_string(self, key: str) -> str | None:
        if not self.has(key):
            return None
        return self.string(key)

    def flag(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        value = self._get(key, True)
        if not isinstance(value, bool):
            raise DefinitionError(f"{self._path}.{key}: expected true or false")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DefinitionError(f"{self._path}.{key}: expected an integer")
        return value

    def number(self, key: str) -> float:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DefinitionError(f"{self._path}.{key}: expected a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        if not self.has(key):
            return None
        return self.number(key)

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        if not self.has(key):
            return default
        value = self._get(key, True)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DefinitionError(f"{self._path}.{key}: expected a list of strings")
        return tuple(value)

    def string_or_strings(self, key: str) -> str | tuple[str, ...]:
        value = self._get(key, True)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise DefinitionError(f"{self._path}.{key}: expected a string or a list of strings")

    def table(self, key: str) -> Table:
        return Table(self._get(key, True), f"{self._path}.{key}")

    def opt_table(self, key: str) -> Table | None:
        if not self.has(key):
            return None
        return self.table(key)

    def tables(self, key: str) -> list[Table]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise DefinitionError(f"{self._path}.{key}: expected a list of tables")
        return [Table(v, f"{self._path}.{key}[{i}]") for i, v in enumerate(value)]

    def enum(self, key: str, kind: type[E]) -> E:
        value = self.string(key)
        try:
            return kind(value)  # type: ignore[call-arg]
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)  # type: ignore[attr-defined]
            raise DefinitionError(
                f"{self._path}.{key}: '{value}' is not one of: {allowed}"
            ) from None

    def done(self) -> None:
        """Fail on any key the loader did not read: it is a typo or an unsupported field."""
        unknown = sorted(set(self._raw) - self._read)
        if unknown:
            raise DefinitionError(f"{self._path}: unknown key(s): {', '.join(unknown)}")
