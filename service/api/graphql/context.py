"""The per-request GraphQL context: built from the same dependencies as REST.

Authentication runs through ``get_principal`` (the REST dependency), so a missing or wrong
token is a 401 before any GraphQL runs. DataLoaders are created per request: a loader that
lived for the process would cache one tenant's records for the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from service.api.deps import PrincipalDep, ServicesDep
from service.bootstrap import Services
from service.domain.alerts import Alert
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal


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

        async def patients(ids: list[uuid.UUID]) -> list[Patient | None]:
            found = await batches.patients(who, ids)
            return [found.get(i) for i in ids]

        async def practitioners(ids: list[uuid.UUID]) -> list[Practitioner | None]:
            found = await batches.practitioners(who, ids)
            return [found.get(i) for i in ids]

        async def dyads(ids: list[uuid.UUID]) -> list[Dyad | None]:
            found = await batches.dyads(who, ids)
            return [found.get(i) for i in ids]

        async def administrations(ids: list[uuid.UUID]) -> list[list[Administration]]:
            found = await batches.administrations(who, ids)
            return [found[i] for i in ids]

        async def alerts(ids: list[uuid.UUID]) -> list[list[Alert]]:
            found = await batches.alerts(who, ids)
            return [found[i] for i in ids]

        self.loaders = Loaders(
            DataLoader(patients), DataLoader(practitioners), DataLoader(dyads),
            DataLoader(administrations), DataLoader(alerts),
        )  # fmt: skip


async def get_context(services: ServicesDep, principal: PrincipalDep) -> Context:
    return Context(services=services, principal=principal)


ContextDep: Any = Depends(get_context)
