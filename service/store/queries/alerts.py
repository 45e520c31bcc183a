"""Alerts: stored once per piece of evidence, then acknowledged and resolved."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from service.domain.alerts import Alert, AlertKind, AlertStatus, Severity
from service.store.queries.base import Queries, alerts, owned, page

_NEW_ALERT = ("id", "tenant_id", "dyad_id", "kind", "severity", "status", "rule",
              "evidence_key", "evidence", "created_at")  # fmt: skip
_ADD_ALERT = {
    name: dialect.insert(alerts)
    .values({column: bindparam(column) for column in _NEW_ALERT})
    .on_conflict_do_nothing(index_elements=["tenant_id", "dyad_id", "kind", "evidence_key"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class AlertQueries(Queries):
    # Alerts ---------------------------------------------------------------------------------

    def add_alert(self, alert: Alert, evidence_key: str) -> bool:
        """Store a new alert unless the same evidence already raised one; True if stored."""
        return bool(
            self._c.execute(
                _ADD_ALERT[self._c.dialect.name],
                {"id": alert.id, "tenant_id": alert.tenant_id, "dyad_id": alert.dyad_id,
                 "kind": alert.kind.value, "severity": alert.severity.value,
                 "status": alert.status.value, "rule": alert.rule,
                 "evidence_key": evidence_key, "evidence": alert.evidence,
                 "created_at": alert.created_at},
            ).rowcount
        )  # fmt: skip

    def alert(self, tenant_id: uuid.UUID, alert_id: uuid.UUID) -> Alert | None:
        query = owned(alerts, tenant_id).where(alerts.c.id == alert_id)
        return _alert(found) if (found := self._c.execute(query).first()) else None

    def alerts(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None, kind: AlertKind | None = None,
        dyad_id: uuid.UUID | None = None,
    ) -> list[Alert]:  # fmt: skip
        query = owned(alerts, tenant_id)
        if statuses:
            query = query.where(alerts.c.status.in_(sorted(s.value for s in statuses)))
        if kind is not None:
            query = query.where(alerts.c.kind == kind.value)
        if dyad_id is not None:
            query = query.where(alerts.c.dyad_id == dyad_id)
        return [_alert(r) for r in self._c.execute(page(query, alerts, after, limit))]

    def alerts_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID],
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]:  # fmt: skip
        query = owned(alerts, tenant_id).where(alerts.c.dyad_id.in_(dyad_ids))
        if statuses:
            query = query.where(alerts.c.status.in_(sorted(s.value for s in statuses)))
        return [_alert(r) for r in self._c.execute(query.order_by(alerts.c.id))]

    def update_alert(self, alert: Alert) -> None:
        self._c.execute(
            update(alerts)
            .where(alerts.c.tenant_id == alert.tenant_id, alerts.c.id == alert.id)
            .values(
                status=alert.status.value,
                acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by,
                acknowledged_note=alert.acknowledged_note, resolved_at=alert.resolved_at,
                resolved_by=alert.resolved_by, resolved_note=alert.resolved_note,
                acknowledged_actor=alert.acknowledged_actor, resolved_actor=alert.resolved_actor,
            )
        )  # fmt: skip


def _alert(r: Row[Any]) -> Alert:
    return Alert(
        id=r.id, tenant_id=r.tenant_id, dyad_id=r.dyad_id, kind=AlertKind(r.kind),
        severity=Severity(r.severity), status=AlertStatus(r.status), rule=r.rule,
        evidence=r.evidence, created_at=r.created_at, acknowledged_at=r.acknowledged_at,
        acknowledged_by=r.acknowledged_by, acknowledged_note=r.acknowledged_note,
        resolved_at=r.resolved_at, resolved_by=r.resolved_by, resolved_note=r.resolved_note,
        acknowledged_actor=r.acknowledged_actor, resolved_actor=r.resolved_actor,
    )  # fmt: skip
