"""GraphQL types of the clinical record. Nested fields resolve through per-request loaders."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from service.api.graphql.arguments import page_size
from service.api.graphql.bodies import from_body
from service.api.graphql.context import Context
from service.api.graphql.enums import AlertStatusArg
from service.api.graphql.insight_types import Concordance, Progress
from service.api.graphql.resolve import domain_call, domain_value
from service.api.graphql.scoring_types import ScoreResult
from service.app.pagination import DEFAULT_LIMIT, page_of
from service.app.rendering import record_fields
from service.domain.alerts import Alert as AlertRecord
from service.domain.records import Administration as AdministrationRecord
from service.domain.records import Dyad as DyadRecord
from service.domain.records import Patient as PatientRecord
from service.domain.records import Practitioner as PractitionerRecord

Ctx = Info[Context, None]
T = TypeVar("T")


def built(kind: type[T], record: object) -> T:
    """A GraphQL object from a record, through the mapping REST's models are built from
    (``record_fields``): the fields this type publishes, spelt as REST spells them."""
    return from_body(kind, record_fields(record))


@strawberry.type
class Patient:
    id: strawberry.ID
    external_id: str
    population: str | None
    created_at: datetime

    @classmethod
    def of(cls, p: PatientRecord) -> Patient:
        return built(cls, p)


@strawberry.type
class Practitioner:
    id: strawberry.ID
    external_id: str
    display_name: str | None
    created_at: datetime

    @classmethod
    def of(cls, p: PractitionerRecord) -> Practitioner:
        return built(cls, p)


@strawberry.type
class Administration:
    id: strawberry.ID
    dyad_id: strawberry.ID
    session: int
    instrument: str
    instrument_version: str
    respondent: str
    completed_at: datetime
    created_at: datetime
    responses: JSON
    score: ScoreResult
    status: str = strawberry.field(description="final, superseded or entered-in-error")
    superseded_by: strawberry.ID | None = None
    void_reason: str | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when submitAdministration answers a retry of an earlier request "
        "with the same idempotency key: nothing new was stored (REST says so with the "
        "Idempotent-Replayed header).",
    )

    @classmethod
    def of(cls, a: AdministrationRecord, replayed: bool = False) -> Administration:
        return cls(
            id=strawberry.ID(str(a.id)), dyad_id=strawberry.ID(str(a.dyad_id)),
            session=a.session, instrument=a.instrument, instrument_version=a.instrument_version,
            respondent=a.respondent.value, completed_at=a.completed_at, created_at=a.created_at,
            responses=JSON(a.responses), score=ScoreResult.of(a.score), status=a.status.value,
            superseded_by=None if a.superseded_by is None else strawberry.ID(str(a.superseded_by)),
            void_reason=None if a.voided is None else a.voided.reason, replayed=replayed,
        )  # fmt: skip


@strawberry.type
class Alert:
    id: strawberry.ID
    dyad_id: strawberry.ID
    kind: str
    severity: str
    status: str
    rule: str
    evidence: JSON
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolved_note: str | None
    acknowledged_actor: str | None
    resolved_actor: str | None

    @classmethod
    def of(cls, a: AlertRecord) -> Alert:
        return built(cls, a)


@strawberry.type
class Dyad:
    id: strawberry.ID
    patient_id: strawberry.ID
    practitioner_id: strawberry.ID
    started_on: date | None
    ended_on: date | None
    created_at: datetime

    @classmethod
    def of(cls, d: DyadRecord) -> Dyad:
        return built(cls, d)

    @strawberry.field
    async def patient(self, info: Ctx) -> Patient | None:
        found = await domain_call(info.context.loaders.patients.load(uuid.UUID(self.patient_id)))
        return Patient.of(found) if found else None

    @strawberry.field
    async def practitioner(self, info: Ctx) -> Practitioner | None:
        loader = info.context.loaders.practitioners
        found = await domain_call(loader.load(uuid.UUID(self.practitioner_id)))
        return Practitioner.of(found) if found else None

    @strawberry.field
    async def administrations(
        self, info: Ctx, instrument: str | None = None, first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> list[Administration]:  # fmt: skip
        """Oldest first, a page at a time (REST's bounds: ``first`` 1 to 200)."""
        size = domain_value(page_size, first)
        found = await domain_call(info.context.loaders.administrations.load(uuid.UUID(self.id)))
        chosen = [a for a in found if instrument in (None, a.instrument)]
        return [Administration.of(a) for a in domain_value(page_of, chosen, after, size)]

    @strawberry.field
    async def alerts(
        self, info: Ctx, status: AlertStatusArg | None = None, first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> list[Alert]:  # fmt: skip
        """Oldest first, a page at a time (REST's bounds: ``first`` 1 to 200)."""
        size = domain_value(page_size, first)
        found = await domain_call(info.context.loaders.alerts.load(uuid.UUID(self.id)))
        chosen = [a for a in found if status is None or a.status.value == status.value]
        return [Alert.of(a) for a in domain_value(page_of, chosen, after, size)]

    @strawberry.field
    async def progress(self, info: Ctx, instrument: str) -> Progress:
        view = await domain_call(
            info.context.services.insights.progress(
                info.context.principal, uuid.UUID(self.id), instrument
            )
        )
        return Progress.of(view)

    @strawberry.field
    async def concordance(
        self, info: Ctx, instrument: Annotated[str, strawberry.argument()] = "wai-sr"
    ) -> Concordance:
        view = await domain_call(
            info.context.services.insights.concordance(
                info.context.principal, uuid.UUID(self.id), instrument
            )
        )
        return Concordance.of(view)
