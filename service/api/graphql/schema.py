"""The GraphQL schema: queries and mutations, each a call to a use case, nothing more."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.types import Info

from service.api.graphql.context import Context
from service.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    as_result,
    should_mask,
)
from service.api.graphql.guard import GuardedValidation, Limits, cached_validator
from service.api.graphql.insight_types import Calibration, parse_id
from service.api.graphql.record_types import Administration, Alert, Dyad, Patient, Practitioner
from service.api.graphql.resolve import domain_call, or_none
from service.api.graphql.scoring_types import Instrument, ResponseInput, ScoreResult
from service.app.administrations import NewAdministration
from service.app.records import NewDyad, NewPatient, NewPractitioner
from service.app.rendering import score_dict
from service.domain.alerts import AlertKind, AlertStatus
from service.domain.errors import DomainError, FieldError, ValidationFailed
from service.domain.instruments.model import Population, Respondent

Ctx = Info[Context, None]
E = TypeVar("E")
MAX_PAGE = 200


def _uuid(value: str, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationFailed(f"{field} is not an id.", (FieldError(field, "invalid-id", value),))
    return parsed


@strawberry.type
class Query:
    @strawberry.field
    def instruments(self, info: Ctx) -> list[Instrument]:
        return [Instrument.of(d) for d in info.context.services.instruments.list()]

    @strawberry.field
    async def score(
        self,
        info: Ctx,
        instrument: str,
        responses: list[ResponseInput],
        population: str | None = None,
    ) -> ScoreResult:
        answers: dict[str, object] = {}
        for r in responses:
            answers[r.item] = int(r.value) if float(r.value).is_integer() else r.value
        instruments = info.context.services.instruments

        async def run() -> ScoreResult:
            return ScoreResult.of(score_dict(instruments.score(instrument, answers, population)))

        return await domain_call(run())

    @strawberry.field
    def instrument(self, info: Ctx, id: str) -> Instrument | None:
        found = [d for d in info.context.services.instruments.list() if d.id == id]
        return Instrument.of(found[0]) if found else None

    @strawberry.field
    async def patients(self, info: Ctx, first: int = 50, after: str | None = None) -> list[Patient]:
        async def run() -> list[Patient]:
            records = info.context.services.records
            page = await records.patients(info.context.principal, after, _page_size(first))
            return [Patient.of(p) for p in page.items]

        return await domain_call(run())

    @strawberry.field
    async def practitioners(
        self, info: Ctx, first: int = 50, after: str | None = None
    ) -> list[Practitioner]:
        async def run() -> list[Practitioner]:
            records = info.context.services.records
            page = await records.practitioners(info.context.principal, after, _page_size(first))
            return [Practitioner.of(p) for p in page.items]

        return await domain_call(run())

    @strawberry.field
    async def alert(self, info: Ctx, id: strawberry.ID) -> Alert | None:
        key = parse_id(id)
        if key is None:
            return None
        found = await or_none(info.context.services.alerts.get(info.context.principal, key))
        return Alert.of(found) if found else None

    @strawberry.field
    async def patient(self, info: Ctx, id: strawberry.ID) -> Patient | None:
        key = parse_id(id)
        if key is None:
            return None
        found = await or_none(info.context.services.records.patient(info.context.principal, key))
        return Patient.of(found) if found else None

    @strawberry.field
    async def practitioner(self, info: Ctx, id: strawberry.ID) -> Practitioner | None:
        key = parse_id(id)
        if key is None:
            return None
        records = info.context.services.records
        found = await or_none(records.practitioner(info.context.principal, key))
        return Practitioner.of(found) if found else None

    @strawberry.field
    async def dyad(self, info: Ctx, id: strawberry.ID) -> Dyad | None:
        key = parse_id(id)
        if key is None:
            return None
        found = await or_none(info.context.services.records.dyad(info.context.principal, key))
        return Dyad.of(found) if found else None

    @strawberry.field
    async def dyads(self, info: Ctx, first: int = 50, after: str | None = None) -> list[Dyad]:
        async def run() -> list[Dyad]:
            records = info.context.services.records
            page = await records.dyads(info.context.principal, after, _page_size(first))
            return [Dyad.of(d) for d in page.items]

        return await domain_call(run())

    @strawberry.field
    async def calibration(
        self, info: Ctx, practitioner_id: strawberry.ID
    ) -> list[Calibration] | None:
        key = parse_id(practitioner_id)
        if key is None:
            return None
        insights = info.context.services.insights
        found = await or_none(insights.calibration(info.context.principal, key))
        return None if found is None else [Calibration.of(c) for c in found]

    @strawberry.field
    async def alerts(
        self, info: Ctx, status: str | None = None, kind: str | None = None,
        dyad_id: strawberry.ID | None = None, first: int = 50, after: str | None = None,
    ) -> list[Alert]:  # fmt: skip
        async def run() -> list[Alert]:
            statuses = frozenset({_enum(AlertStatus, status, "status")}) if status else None
            chosen = _enum(AlertKind, kind, "kind") if kind else None
            dyad = _uuid(dyad_id, "dyadId") if dyad_id else None
            page = await info.context.services.alerts.find(
                info.context.principal, after, _page_size(first), statuses, chosen, dyad
            )
            return [Alert.of(a) for a in page.items]

        return await domain_call(run())


@strawberry.input
class AdministrationInput:
    dyad_id: strawberry.ID
    instrument: str
    session: int
    responses: list[ResponseInput]
    respondent: str | None = None
    completed_at: datetime | None = None
    population: str | None = None


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
        self, info: Ctx, external_id: str, population: str | None = None
    ) -> CreatePatientResult:
        try:
            chosen = _enum(Population, population, "population") if population else None
            new = NewPatient(_external_id(external_id), chosen)
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
            new = NewPractitioner(_external_id(external_id), display_name)
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
                _uuid(patient_id, "patientId"), _uuid(practitioner_id, "practitionerId"),
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
            answers = {
                r.item: int(r.value) if float(r.value).is_integer() else r.value
                for r in input.responses
            }
            new = NewAdministration(
                dyad_id=_uuid(input.dyad_id, "dyadId"),
                instrument=input.instrument,
                session=input.session,
                responses=answers,
                respondent=_enum(Respondent, input.respondent, "respondent")
                if input.respondent
                else None,
                completed_at=_aware(input.completed_at),
                population=_enum(Population, input.population, "population")
                if input.population
                else None,
            )
            services = info.context.services
            submitted = await services.administrations.submit(
                info.context.principal, new, idempotency_key
            )
            stored = submitted.body
            return Administration(
                id=strawberry.ID(stored["id"]), dyad_id=strawberry.ID(stored["dyad_id"]),
                session=stored["session"], instrument=stored["instrument"],
                instrument_version=stored["instrument_version"],
                respondent=stored["respondent"],
                completed_at=datetime.fromisoformat(stored["completed_at"]),
                created_at=datetime.fromisoformat(stored["created_at"]),
                responses=stored["responses"], score=ScoreResult.of(stored["score"]),
            )  # fmt: skip
        except DomainError as error:
            return as_result(error)

    @strawberry.mutation
    async def acknowledge_alert(
        self, info: Ctx, id: strawberry.ID, note: str | None = None
    ) -> AlertTransitionResult:
        return await _transition(info, id, AlertStatus.ACKNOWLEDGED, note)

    @strawberry.mutation
    async def resolve_alert(
        self, info: Ctx, id: strawberry.ID, note: str | None = None
    ) -> AlertTransitionResult:
        return await _transition(info, id, AlertStatus.RESOLVED, note)


async def _transition(
    info: Ctx, alert_id: str, to: AlertStatus, note: str | None
) -> AlertTransitionResult:
    try:
        if note is not None and len(note) > 2000:
            raise ValidationFailed(
                "The note is too long.", (FieldError("note", "too-long", "2000"),)
            )
        changed = await info.context.services.alerts.transition(
            info.context.principal, _uuid(alert_id, "id"), to, note
        )
        return Alert.of(changed)
    except DomainError as error:
        return as_result(error)


def _enum(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value)  # type: ignore[call-arg]
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)  # type: ignore[attr-defined]
        raise ValidationFailed(
            f"{field} '{value}' is not one of: {allowed}.",
            (FieldError(field, "invalid-choice", f"Expected one of: {allowed}."),),
        ) from None


def _page_size(first: int) -> int:
    """The same bounds as REST's ``limit``: 1 to 200."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(
            f"first must be between 1 and {MAX_PAGE}.",
            (FieldError("first", "out-of-range", f"1 to {MAX_PAGE}"),),
        )
    return first


def _external_id(value: str) -> str:
    if not value or value != value.strip() or len(value) > 200:
        raise ValidationFailed(
            "externalId must be 1 to 200 characters without surrounding spaces.",
            (FieldError("externalId", "invalid", "1-200 characters, no surrounding spaces."),),
        )
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            "completedAt needs a timezone.",
            (FieldError("completedAt", "naive-datetime", "e.g. 2026-11-26T10:00:00Z"),),
        )
    return value


def build_schema(introspection: bool = False, limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    validate = cached_validator(maxsize=256)
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=4_000),
        # Depth, alias and field limits, measured in linear time (see guard.py for why not
        # Strawberry's QueryDepthLimiter and MaxAliasesLimiter).
        lambda: GuardedValidation(limits, validate),
        lambda: ParserCache(maxsize=256),
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=extensions)
