"""GraphQL mutations: each returns its payload or a typed error from the same use cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from service.api.graphql.arguments import aware, uuid_arg
from service.api.graphql.context import Context
from service.api.graphql.enums import PopulationArg, RespondentArg, domain
from service.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    as_result,
)
from service.api.graphql.record_types import Administration, Alert, Dyad, Patient, Practitioner
from service.api.graphql.scoring_types import ResponseInput, answers_of
from service.app.administrations import NewAdministration
from service.app.records import NewDyad, NewPatient, NewPractitioner
from service.domain.alerts import AlertStatus
from service.domain.errors import DomainError, FieldError, ValidationFailed
from service.domain.instruments.model import Population, Respondent

Ctx = Info[Context, None]


@strawberry.input
class AdministrationInput:
    dyad_id: strawberry.ID
    instrument: str
    session: int
    responses: list[ResponseInput]
    respondent: RespondentArg | None = None
    completed_at: datetime | None = None
    population: PopulationArg | None = None


CreatePatientResult = Annotated[
    Patient | ValidationError | ConflictError | ForbiddenError,
    strawberry.union("CreatePatientResult"),
]
CreatePractitionerResult = Annotated[
    Practitioner | ValidationError | ConflictError | ForbiddenError,
    strawberry.union("CreatePractitionerResult"),
]
CreateDyadResult = Annotated[
    Dyad | ValidationError | ForbiddenError, strawberry.union("CreateDyadResult")
]
SubmitAdministrationResult = Annotated[
    Administration | ValidationError | NotFoundError | ForbiddenError | ConflictError,
    strawberry.union("SubmitAdministrationResult"),
]
AlertTransitionResult = Annotated[
    Alert | NotFoundError | ConflictError | ForbiddenError | ValidationError,
    strawberry.union("AlertTransitionResult"),
]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_patient(
        self, info: Ctx, external_id: str, population: PopulationArg | None = None
    ) -> CreatePatientResult:
        try:
            new = NewPatient(external_id, domain(Population, population))
            return Patient.of(
                await info.context.services.records.create_patient(info.context.principal, new)
            )
        except DomainError as error:
            return as_result(error)  # type: ignore[return-value]

    @strawberry.mutation
    async def create_practitioner(
        self, info: Ctx, external_id: str, display_name: str | None = None
    ) -> CreatePractitionerResult:
        try:
            new = NewPractitioner(external_id, display_name)
            records = info.context.services.records
            return Practitioner.of(await records.create_practitioner(info.context.principal, new))
        except DomainError as error:
            return as_result(error)  # type: ignore[return-value]

    @strawberry.mutation
    async def create_dyad(
        self, info: Ctx, patient_id: strawberry.ID, practitioner_id: strawberry.ID,
        started_on: date | None = None, ended_on: date | None = None,
    ) -> CreateDyadResult:  # fmt: skip
        try:
            new = NewDyad(
                uuid_arg(patient_id, "patientId"), uuid_arg(practitioner_id, "practitionerId"),
                started_on, ended_on,
            )  # fmt: skip
            return Dyad.of(
                await info.context.services.records.create_dyad(info.context.principal, new)
            )
        except DomainError as error:
            return as_result(error)  # type: ignore[return-value]

    @strawberry.mutation
    async def submit_administration(
        self, info: Ctx, input: AdministrationInput, idempotency_key: str | None = None
    ) -> SubmitAdministrationResult:
        try:
            answers = answers_of(input.responses)
            new = NewAdministration(
                dyad_id=uuid_arg(input.dyad_id, "dyadId"),
                instrument=input.instrument,
                session=input.session,
                responses=answers,
                respondent=domain(Respondent, input.respondent),
                completed_at=aware(input.completed_at),
                population=domain(Population, input.population),
            )
            services = info.context.services
            submitted = await services.administrations.submit(
                info.context.principal, new, idempotency_key
            )
            return Administration.of(submitted.administration, replayed=submitted.replayed)
        except DomainError as error:
            return as_result(error)

    @strawberry.mutation
    async def acknowledge_alert(
        self, info: Ctx, id: strawberry.ID, note: str | None = None, actor: str | None = None
    ) -> AlertTransitionResult:
        return await _transition(info, id, AlertStatus.ACKNOWLEDGED, note, actor)

    @strawberry.mutation
    async def resolve_alert(
        self, info: Ctx, id: strawberry.ID, note: str | None = None, actor: str | None = None
    ) -> AlertTransitionResult:
        return await _transition(info, id, AlertStatus.RESOLVED, note, actor)


async def _transition(
    info: Ctx, alert_id: str, to: AlertStatus, note: str | None, actor: str | None
) -> AlertTransitionResult:
    try:
        if note is not None and len(note) > 2000:
            raise ValidationFailed(
                "The note is too long.", (FieldError("note", "too-long", "2000"),)
            )
        changed = await info.context.services.alerts.transition(
            info.context.principal, uuid_arg(alert_id, "id"), to, note, actor
        )
        return Alert.of(changed)
    except DomainError as error:
        return as_result(error)
