"""Reading one administration, and voiding one entered in error.

A voided administration is never deleted: it stays listed with its status and reason, and
is left out of progress, concordance, calibration and alert evaluation (the store's scored
series skip it, its series summary is rebuilt, its session's alliance pair is recomputed).
Alerts it raised are resolved with the reason, and their resolution is sent to webhooks
like any other.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from service.app.access import read_one
from service.app.alliance_summaries import AllianceSummaries
from service.app.audit import audited, record
from service.app.auth import require
from service.app.instruments import InstrumentService
from service.app.ports import Store, Transact
from service.app.webhooks import queue_alert_event
from service.domain import text
from service.domain.alerts import AlertStatus
from service.domain.corrections import Voided
from service.domain.errors import FieldError, NotFound, ValidationFailed
from service.domain.ids import new_id
from service.domain.records import Administration, Principal, Scope
from service.domain.webhooks import EventType

_UNRESOLVED = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED})
# Evidence keys that name the administration an alert was raised on.
_RAISED_ON = ("administration_id", "client_administration_id", "therapist_administration_id")


class Corrections:
    def __init__(self, transact: Transact, instruments: InstrumentService) -> None:
        self._transact = transact
        self._alliance = AllianceSummaries(instruments)

    async def get(self, principal: Principal, administration_id: uuid.UUID) -> Administration:
        return await read_one(
            self._transact, principal, "administration", administration_id,
            lambda store: store.administration(principal.tenant_id, administration_id),
        )  # fmt: skip

    async def void(
        self, principal: Principal, administration_id: uuid.UUID, reason: str
    ) -> Administration:
        """Void it (idempotent: voiding it again changes nothing and answers the same)."""
        action = "administration.void"
        await require(self._transact, principal, Scope.WRITE, action)
        if not reason.strip():
            raise ValidationFailed(
                "Say why the administration was entered in error.",
                (FieldError("reason", "required", "A reason is required."),),
            )
        text.note("reason", reason)
        voided = Voided(datetime.now(UTC), principal.actor, reason)

        def work(store: Store) -> Administration:
            found = store.administration(principal.tenant_id, administration_id)
            if found is None:
                raise NotFound(f"No administration {administration_id}.")
            if found.voided is not None:
                return found
            store.void_administration(principal.tenant_id, administration_id, voided)
            store.mark_series_summary_stale(
                principal.tenant_id, found.dyad_id, found.instrument, new_id()
            )
            self._alliance.refresh(
                store, principal.tenant_id, found.dyad_id, found.session, found.instrument
            )
            _resolve_alerts_raised_on(store, principal, found, voided)
            record(store, principal, action, "administration", administration_id)
            return replace(found, voided=voided, superseded_by=None)

        return await audited(
            self._transact, principal, action, "administration", administration_id, work
        )


def _resolve_alerts_raised_on(
    store: Store, principal: Principal, voided_one: Administration, voided: Voided
) -> None:
    mine = str(voided_one.id)
    alerts = store.alerts_of_dyads(principal.tenant_id, [voided_one.dyad_id], _UNRESOLVED)
    for alert in alerts:
        if not any(alert.evidence.get(key) == mine for key in _RAISED_ON):
            continue
        resolved = replace(
            alert, status=AlertStatus.RESOLVED, resolved_at=voided.at, resolved_by=voided.by,
            resolved_note=f"The administration it was raised on was voided: {voided.reason}",
        )  # fmt: skip
        store.update_alert(resolved)
        record(store, principal, "alert.resolve", "alert", alert.id)
        queue_alert_event(store, EventType.ALERT_RESOLVED, resolved)
