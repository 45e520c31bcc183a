"""Searches of the clinical record by patient, instrument and time: what FHIR read and search
serve (service/app/clinical_search.py).

Each search is one indexed query: administrations of one patient go through the dyads of that
patient (``ix_dyads_tenant_id_patient_id``) and the administrations of each dyad by time
(``ix_administrations_tenant_id_dyad_id_completed_at_id``); a tenant-wide search walks
``ix_administrations_tenant_id_completed_at_id``. Pages are keyset pages on
(completed_at, id), so a page costs the same however deep it is.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, and_, tuple_

from service.app.ports import AdministrationRecord, AdministrationSearch
from service.domain.alerts import Alert, AlertStatus
from service.domain.corrections import Voided
from service.domain.instruments.model import Population, Respondent
from service.domain.records import Administration, Patient, Practitioner
from service.store.queries.alerts import _alert
from service.store.queries.base import (
    Queries,
    administrations,
    alerts,
    dyads,
    owned,
    page,
    patients,
    practitioners,
)

_A, _D, _P, _R = administrations, dyads, patients, practitioners


class ClinicalSearchQueries(Queries):
    def _records(self, tenant_id: uuid.UUID) -> Any:
        """Administrations with their dyad's patient and practitioner, of one tenant."""
        return (
            owned(_A, tenant_id)
            .add_columns(
                _P.c.id.label("p_id"), _P.c.external_id.label("p_external_id"),
                _P.c.population.label("p_population"), _P.c.created_at.label("p_created_at"),
                _R.c.id.label("r_id"), _R.c.external_id.label("r_external_id"),
                _R.c.display_name.label("r_display_name"),
                _R.c.created_at.label("r_created_at"),
            )
            .join(_D, and_(_D.c.id == _A.c.dyad_id, _D.c.tenant_id == tenant_id))
            .join(_P, and_(_P.c.id == _D.c.patient_id, _P.c.tenant_id == tenant_id))
            .join(_R, and_(_R.c.id == _D.c.practitioner_id, _R.c.tenant_id == tenant_id))
        )  # fmt: skip

    def administration_record(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> AdministrationRecord | None:
        query = self._records(tenant_id).where(_A.c.id == administration_id)
        row = self._c.execute(query).first()
        return _record(row) if row is not None else None

    def search_administrations(
        self, tenant_id: uuid.UUID, search: AdministrationSearch
    ) -> list[AdministrationRecord]:
        query = self._records(tenant_id)
        if search.patient_id is not None:
            # The patient's few dyads first, as values: the planner then reads each dyad's
            # records by time instead of walking the tenant's (SQLite has no statistics).
            dyad_ids = self._c.execute(_dyads_of(tenant_id, search.patient_id)).scalars().all()
            if not dyad_ids:
                return []
            query = query.where(_A.c.dyad_id.in_(dyad_ids))
        if search.instruments is not None:
            query = query.where(_A.c.instrument.in_(sorted(search.instruments)))
        if search.since is not None:
            query = query.where(_A.c.completed_at >= search.since)
        if search.before is not None:
            query = query.where(_A.c.completed_at < search.before)
        if search.voided is not None:
            query = query.where(
                _A.c.voided_at.is_not(None) if search.voided else _A.c.voided_at.is_(None)
            )
        if search.after is not None:
            # A row-value comparison: both engines seek the index to it (an OR of the two
            # cases would be a filter over the tenant's rows before the page).
            key, after = tuple_(_A.c.completed_at, _A.c.id), tuple_(*search.after)
            query = query.where(key < after if search.descending else key > after)
        order = (
            (_A.c.completed_at.desc(), _A.c.id.desc())
            if search.descending
            else (_A.c.completed_at, _A.c.id)
        )
        rows = self._c.execute(query.order_by(*order).limit(search.limit))
        return [_record(r) for r in rows]

    def alerts_of_patient(
        self, tenant_id: uuid.UUID, patient_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]:  # fmt: skip
        dyad_ids = self._c.execute(_dyads_of(tenant_id, patient_id)).scalars().all()
        if not dyad_ids:
            return []
        query = owned(alerts, tenant_id).where(alerts.c.dyad_id.in_(dyad_ids))
        if statuses:
            query = query.where(alerts.c.status.in_(sorted(s.value for s in statuses)))
        return [_alert(r) for r in self._c.execute(page(query, alerts, after, limit))]


def _dyads_of(tenant_id: uuid.UUID, patient_id: uuid.UUID) -> Any:
    """The ids of a patient's dyads (``ix_dyads_tenant_id_patient_id``): a patient's records
    are read through them, dyad by dyad, instead of walking the tenant's."""
    return owned(_D, tenant_id).with_only_columns(_D.c.id).where(_D.c.patient_id == patient_id)


def _record(r: Row[Any]) -> AdministrationRecord:
    administration = Administration(
        id=r.id, tenant_id=r.tenant_id, dyad_id=r.dyad_id, session=r.session_number,
        instrument=r.instrument, instrument_version=r.instrument_version,
        respondent=Respondent(r.respondent), completed_at=r.completed_at,
        responses=r.responses, score=r.score, created_at=r.created_at,
        voided=None if r.voided_at is None else Voided(r.voided_at, r.voided_by, r.void_reason),
    )  # fmt: skip
    population = Population(r.p_population) if r.p_population else None
    patient = Patient(r.p_id, r.tenant_id, r.p_external_id, population, r.p_created_at)
    practitioner = Practitioner(
        r.r_id, r.tenant_id, r.r_external_id, r.r_display_name, r.r_created_at
    )
    return AdministrationRecord(administration, patient, practitioner)
