"""The per-request GraphQL context: built from the same dependencies as REST.

Authentication runs through ``get_principal`` (the REST dependency), so a missing or wrong
token is a 401 before any GraphQL runs. DataLoaders are created per request: a loader that
lived for the process would cache one tenant's records for the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Depends
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from service.api.deps import PrincipalDep, ServicesDep
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
class Context(BaseContext):
    services: Services
    principal: Principal
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        batches, who = self.services.batches, self.principal
        self.loaders = Loaders(
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


async def get_context(services: ServicesDep, principal: PrincipalDep) -> Context:
    return Context(services=services, principal=principal)


ContextDep: Any = Depends(get_context)
