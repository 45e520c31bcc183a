"""Every domain error has a REST status, so none can fall through to a 500."""

from __future__ import annotations

from service.api.rest.problems import STATUS_BY_ERROR
from service.domain import errors


def _subclasses(cls: type[errors.DomainError]) -> set[type[errors.DomainError]]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_every_domain_error_is_mapped_explicitly() -> None:
    unmapped = {c.__name__ for c in _subclasses(errors.DomainError)} - {
        c.__name__ for c in STATUS_BY_ERROR
    }
    assert not unmapped


def test_codes_are_unique() -> None:
    codes = [c.code for c in _subclasses(errors.DomainError)]
    assert len(codes) == len(set(codes))
