"""Submit and list administrations: score, store, audit, and honour idempotency keys.

Idempotency: a request with an ``Idempotency-Key`` claims the key by inserting its row
first, inside the same transaction as the administration. A concurrent retry with the same
key blocks on the key's unique index (PostgreSQL) or waits behind it in the one writer
(SQLite), then finds the stored response and replays it; nothing is stored twice. The same
key with another body is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from service.app import telemetry
from service.app.alerting import raise_alerts
from service.app.alliance_summaries import AllianceSummaries
from service.app.audit import audited, record, refused
from service.app.auth import require
from service.app.instruments import InstrumentService
from service.app.pagination import Page, paginate
from service.app.ports import Store, StoredResponseView, Transact
from service.app.rendering import administration_body, administration_of, score_dict
from service.app.rules import ClinicalRules
from service.domain import text
from service.domain.errors import (
    Conflict,
    DomainError,
    FieldError,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
)
from service.domain.ids import new_id
from service.domain.instruments.model import InstrumentDefinition, Population, Respondent
from service.domain.records import Administration, Principal, Scope

CLOCK_SKEW = timedelta(minutes=5)
MAX_SESSION = 2**31 - 1  # the largest session number every supported database stores
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NewAdministration:
    dyad_id: uuid.UUID
    instrument: str
    session: int
    responses: Mapping[str, object]
    respondent: Respondent | None = None
    completed_at: datetime | None = None
    population: Population | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """What ``submit`` stored, or replayed for a retry of the same Idempotency-Key: each
    adapter renders it, and says ``replayed`` in its own way."""

    status_code: int
    administration: Administration
    replayed: bool

    @property
    def body(self) -> dict[str, Any]:
        """The JSON shape stored for replays and answered over REST."""
        return administration_body(self.administration)


class Administrations:
    def __init__(
        self, transact: Transact, instruments: InstrumentService, rules: ClinicalRules
    ) -> None:
        self._transact = transact
        self._instruments = instruments
        self._rules = rules
        self._alliance = AllianceSummaries(instruments)

    async def submit(
        self, principal: Principal, new: NewAdministration, idempotency_key: str | None = None,
        *, fhir_identifier: str | None = None,
    ) -> Submitted:  # fmt: skip
        """``idempotency_key``: the client's key (any face); ``fhir_identifier``: a FHIR
        QuestionnaireResponse.identifier.value, used when no client key is given. The two
        live in separate namespaces (service/domain/text.py)."""
        await require(self._transact, principal, Scope.WRITE, "administration.create")
        try:
            idempotency_key, definition, given = self._validated(
                new, idempotency_key, fhir_identifier
            )
        except DomainError as error:  # refused before any transaction: audited here, once,
            # whichever face sent it
            await refused(
                self._transact, principal, "administration.create", "dyad", new.dyad_id, error
            )
            raise
        now = datetime.now(UTC)
        request_hash = _fingerprint(new) if idempotency_key is not None else ""
        administration_id = new_id()
        raised: list[str] = []  # the kinds of the alerts the last attempt raised (metrics)

        def replayed(stored: StoredResponseView, store: Store) -> Submitted:
            replay = _replay(stored, request_hash, principal)
            record(store, principal, "administration.replay", "dyad", new.dyad_id)
            return replay

        def work(store: Store) -> Submitted:
            series_of = definition.id if self._rules.reads_series(definition) else None
            found = store.dyad_context(principal.tenant_id, new.dyad_id, series_of, idempotency_key)
            if found is not None and found.stored is not None:
                return replayed(found.stored, store)
            if found is None:
                # A key used before answers even for a dyad that is not there (the same
                # request replays; another one is refused as a reused key).
                if idempotency_key is not None:
                    stored = store.stored_response(principal.tenant_id, idempotency_key)
                    if stored is not None:
                        return replayed(stored, store)
                raise NotFound(f"No dyad {new.dyad_id}.")
            dyad, population = found.dyad, found.population
            score = given
            if score is None:
                of = population.value if population else None
                score = score_dict(self._instruments.score(new.instrument, new.responses, of))
            administration = Administration(
                id=administration_id,
                tenant_id=principal.tenant_id,
                dyad_id=dyad.id,
                session=new.session,
                instrument=definition.id,
                instrument_version=definition.version,
                respondent=new.respondent or definition.respondent,
                completed_at=new.completed_at or now,
                responses=dict(new.responses),
                score=score,
                created_at=now,
            )
            body = administration_body(administration)
            if idempotency_key is not None:
                store.store_response(
                    principal.tenant_id, idempotency_key, request_hash, 201, body, now
                )
            session_id = store.ensure_session(principal.tenant_id, dyad.id, new.session, now)
            store.add_administration(administration, session_id)
            self._alliance.refresh(store, principal.tenant_id, dyad.id, new.session, definition.id)
            record(store, principal, "administration.create", "administration", administration.id)
            if self._rules.alerts_enabled:
                raised[:] = [alert.kind.value for alert in raise_alerts(
                    store, principal, administration, definition, self._instruments,
                    self._rules, found,
                )]  # fmt: skip
            elif self._rules.summarizes(definition):
                # Not folded into the series' summary: the next evaluation rebuilds it.
                store.mark_series_summary_stale(
                    principal.tenant_id, dyad.id, definition.id, administration.id
                )
            return Submitted(201, administration, replayed=False)

        try:
            submitted = await audited(
                self._transact, principal, "administration.create", "dyad", new.dyad_id, work
            )
        except Conflict:
            if idempotency_key is None:
                raise
            # Lost a race with a concurrent request holding the same key: replay its answer.
            stored = await self._transact(
                lambda store: store.stored_response(principal.tenant_id, idempotency_key),
                read_only=True,
            )
            if stored is None:
                raise
            return _replay(stored, request_hash, principal)
        if not submitted.replayed:  # committed: counted once, after the commit
            telemetry.administrations_stored()
            for kind in raised:
                telemetry.alert_raised(kind)
        return submitted

    async def find(
        self, principal: Principal, dyad_id: uuid.UUID, cursor: str | None, limit: int,
        instrument: str | None = None,
    ) -> Page[Administration]:  # fmt: skip
        await require(self._transact, principal, Scope.READ, "administration.list")
        if instrument is not None:
            self._instruments.get(instrument)  # an unknown instrument is a 404, not an empty page

        def work(store: Store) -> Page[Administration]:
            if store.dyad(principal.tenant_id, dyad_id) is None:
                raise NotFound(f"No dyad {dyad_id}.")
            page = paginate(
                lambda after, n: store.administrations(
                    principal.tenant_id, dyad_id, after, n, instrument
                ),
                cursor, limit, lambda a: a.id,
            )  # fmt: skip
            record(store, principal, "administration.list", "dyad", dyad_id)
            return page

        return await audited(
            self._transact, principal, "administration.list", "dyad", dyad_id, work,
            read_only=True,
        )  # fmt: skip

    def _validated(
        self, new: NewAdministration, idempotency_key: str | None, fhir_identifier: str | None
    ) -> tuple[str | None, InstrumentDefinition, dict[str, Any] | None]:
        """The key, the definition, and the score when the request names the population.
        Answers are checked before the transaction, so invalid ones never reach the
        database. They are scored once: here when the request names the population, else in
        the transaction, with the patient's."""
        if idempotency_key is not None:
            idempotency_key = text.idempotency_key("Idempotency-Key", idempotency_key)
        elif fhir_identifier is not None:
            idempotency_key = text.fhir_identifier_key(
                "QuestionnaireResponse.identifier.value", fhir_identifier
            )
        definition = self._check(new)
        given = None
        if new.population is not None:
            given = score_dict(
                self._instruments.score(new.instrument, new.responses, new.population)
            )
        else:
            self._instruments.check(new.instrument, new.responses)
        return idempotency_key, definition, given

    def _check(self, new: NewAdministration) -> InstrumentDefinition:
        definition = self._instruments.get(new.instrument)
        errors = []
        if new.respondent is not None and new.respondent is not definition.respondent:
            errors.append(
                FieldError(
                    "respondent",
                    "respondent-mismatch",
                    f"{definition.short_name} is completed by the {definition.respondent}, "
                    f"not the {new.respondent}.",
                )
            )
        if not 1 <= new.session <= MAX_SESSION:
            errors.append(
                FieldError("session", "not-positive", f"Sessions are numbered 1 to {MAX_SESSION}.")
            )
        errors.extend(_check_completed_at(new.completed_at))
        if errors:
            raise ValidationFailed("The administration does not fit its instrument.", tuple(errors))
        return definition


def _check_completed_at(when: datetime | None) -> list[FieldError]:
    if when is None:
        return []
    try:
        utc = when.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or utc < EARLIEST:
        return [FieldError("completed_at", "out-of-range", "completed_at is before 1900.")]
    if utc > datetime.now(UTC) + CLOCK_SKEW:
        return [FieldError("completed_at", "in-the-future", "completed_at is in the future.")]
    return []


def _fingerprint(new: NewAdministration) -> str:
    canonical = orjson.dumps(
        {
            "dyad": str(new.dyad_id),
            "instrument": new.instrument,
            "session": new.session,
            "responses": dict(new.responses),
            "respondent": new.respondent,
            "completed_at": new.completed_at.isoformat() if new.completed_at else None,
            "population": new.population,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def _replay(stored: StoredResponseView, request_hash: str, principal: Principal) -> Submitted:
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request.",
            (FieldError("Idempotency-Key", "key-reused", "Use a new key for a new request."),),
        )
    administration = administration_of(stored.body, principal.tenant_id)
    return Submitted(stored.status_code, administration, replayed=True)
