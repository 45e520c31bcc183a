"""Alerts as FHIR Flag resources: what needs a clinician's attention, about which patient."""

from __future__ import annotations

from typing import Any

from service.api.fhir.http import versioned
from service.api.fhir.terms import FLAG_CATEGORY, Terms
from service.domain.alerts import Alert, AlertStatus
from service.domain.records import Patient

_DISPLAY = {
    "risk": "Risk item endorsed",
    "alliance-low": "Low therapeutic alliance",
    "rupture": "Alliance rupture",
    "discordance": "Client and therapist disagree on the alliance",
    "deterioration": "Reliable deterioration",
    "not-on-track": "Not on track",
}


def flag(alert: Alert, patient: Patient | None, terms: Terms) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Flag",
        "id": str(alert.id),
        "status": "inactive" if alert.status is AlertStatus.RESOLVED else "active",
        "category": [
            {"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}
        ],
        "code": {
            "coding": [
                {
                    "system": terms.alert_kinds,
                    "code": alert.kind.value,
                    "display": _DISPLAY[alert.kind.value],
                }
            ],
            "text": f"{_DISPLAY[alert.kind.value]} ({alert.severity.value} severity, "
            f"{alert.status.value}); rule {alert.rule}",
        },
        "period": {"start": alert.created_at.isoformat()},
    }
    if alert.resolved_at is not None:
        resource["period"]["end"] = alert.resolved_at.isoformat()
    if patient is not None:
        resource["subject"] = {
            "reference": f"Patient/{patient.id}",
            "identifier": {"system": terms.patient_ids, "value": patient.external_id},
        }
    else:  # pragma: no cover - every dyad has a patient; kept for the required element
        resource["subject"] = {"display": "unknown patient"}
    # An alert changes when acknowledged and when resolved: each change is a version.
    changes = [t for t in (alert.acknowledged_at, alert.resolved_at) if t is not None]
    return versioned(resource, 1 + len(changes), max([alert.created_at, *changes]))
