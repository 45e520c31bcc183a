"""The per-request GraphQL context: built from the same dependencies as REST.

Authentication runs through ``ApiKey`` (the REST dependency), so a missing or wrong token is
a 401 before any GraphQL runs. DataLoaders are created per request: a loader that lived for
the process would cache one tenant's records for the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from strawberry.dataloader import DataLoader

from service.api.deps import ApiKey, services_of
from service.bootstrap import Services
from service.domain.alerts import Alert
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal

V = TypeVar("V")
M = TypeVar("M")


@dataclass
class Loaders:
    patients: DataLoader[uuid.UUID, Patient | None]
    practitioners: DataLoader[uuid.UUID, Practitioner | None]
    dyads: DataLoader[uuid.UUID, Dyad | None]
    administrations: DataLoader[uuid.UUID, list[Administration]]
    alerts: DataLoader[uuid.UUID, list[Alert]]


@dataclass
class Context:
    """What every resolver reads: the services and the authenticated caller."""

    services: Services
    principal: Principal
    # The operation the client named (None: it named none), set by the router: Strawberry
    # would run the first operation of a document holding several (extensions.OneOperation).
    requested_operation: str | None = None

    @cached_property
    def loaders(self) -> Loaders:
        """Built on first use, still once per request: ``score`` and the catalogue load
        no records, and do not pay for five loaders."""
        batches, who = self.services.batches, self.principal
        return Loaders(
            _loader(lambda ids: batches.patients(who, ids), None),
            _loader(lambda ids: batches.practitioners(who, ids), None),
            _loader(lambda ids: batches.dyads(who, ids), None),
            _loader(lambda ids: batches.administrations(who, ids), []),
            _loader(lambda ids: batches.alerts(who, ids), []),
        )


def _loader(
    fetch: Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, V]]], missing: M
) -> DataLoader[uuid.UUID, V | M]:
    """A DataLoader over one batched use case: results in key order, ``missing`` for none."""

    async def load(ids: list[uuid.UUID]) -> list[V | M]:
        found = await fetch(ids)
        return [found.get(i, missing) for i in ids]

    return DataLoader(load)


_api_key = ApiKey()


async def get_context(request: Request) -> Context:
    """One dependency, not one per part: FastAPI's cost is per dependency (deps.py)."""
    return Context(services=services_of(request), principal=await _api_key(request))


ContextDep = Annotated[Context, Depends(get_context)]
