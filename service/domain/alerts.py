"""Alerts: what a clinician should look at after an administration is stored.

``evaluate`` turns the evidence about one dyad into alert candidates. Each carries an
``evidence_key`` naming exactly the evidence behind it (the administration or pair of
administrations), so storing the same evidence twice never raises the same alert twice:
the store keeps one alert per (dyad, kind, evidence key).

Severities are Rapport's triage defaults: risk items and reliable deterioration are high;
ruptures, a low alliance and not-on-track are medium; discordance is low, because it is
descriptive information rather than an outcome predictor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from service.domain.concordance import RULE_VERSION as CONCORDANCE_RULE
from service.domain.concordance import PairedRating
from service.domain.instruments.model import Construct, InstrumentDefinition, Respondent
from service.domain.ruptures import NOT_ON_TRACK_RULE_VERSION, RUPTURE_RULE_VERSION, RuptureRule
from service.domain.series_summary import SeriesRules, Signals


class AlertKind(StrEnum):
    RISK = "risk"
    ALLIANCE_LOW = "alliance-low"
    RUPTURE = "rupture"
    DISCORDANCE = "discordance"
    DETERIORATION = "deterioration"
    NOT_ON_TRACK = "not-on-track"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    kind: AlertKind
    severity: Severity
    evidence_key: str
    rule: str
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Alert:
    id: uuid.UUID
    tenant_id: uuid.UUID
    dyad_id: uuid.UUID
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    rule: str
    evidence: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_note: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_note: str | None = None
    # Who acted in the EHR (its user identifier or a practitioner id), beside the key or
    # client in ``*_by`` that made the call.
    acknowledged_actor: str | None = None
    resolved_actor: str | None = None


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    rupture: RuptureRule = field(default_factory=RuptureRule)
    not_on_track_by_session: int = 6

    def series_rules(self, definition: InstrumentDefinition) -> SeriesRules:
        """What the series rules need of this policy for one instrument."""
        return SeriesRules.of(definition, self.rupture, self.not_on_track_by_session)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything known about the dyad's instrument when one administration is stored."""

    definition: InstrumentDefinition
    administration_id: uuid.UUID
    session: int
    score: dict[str, Any]  # the stored score result
    # What the series rules (ruptures, drops, not-on-track) find at this administration,
    # from its history (service.domain.series_summary); none when no rule reads it.
    signals: Signals = field(default_factory=Signals)
    pair: PairedRating | None = None  # the session's client/therapist pair, if completed


def evaluate(evidence: Evidence, policy: AlertPolicy) -> list[AlertCandidate]:
    found: list[AlertCandidate] = []
    d = evidence.definition
    admin = str(evidence.administration_id)
    for flag in evidence.score.get("flags", []):
        if flag["code"] == "risk":
            found.append(
                AlertCandidate(
                    AlertKind.RISK, Severity.HIGH, f"risk:{admin}", f"{d.id}:{flag['source']}",
                    {"administration_id": admin, "session": evidence.session,
                     "items": flag["items"], "message": flag["message"]},
                )
            )  # fmt: skip
    if d.construct is Construct.ALLIANCE:
        found.extend(_alliance(evidence, policy))
    else:
        found.extend(_outcome(evidence, policy))
    if evidence.pair is not None and evidence.pair.discordant:
        p = evidence.pair
        found.append(
            AlertCandidate(
                AlertKind.DISCORDANCE, Severity.LOW,
                f"discordance:{p.client_administration}:{p.therapist_administration}",
                CONCORDANCE_RULE,
                {"session": p.session, "client": p.client, "therapist": p.therapist,
                 "difference": p.difference, "direction": p.direction.value,
                 "client_administration_id": str(p.client_administration),
                 "therapist_administration_id": str(p.therapist_administration)},
            )
        )  # fmt: skip
    return found


def _alliance(evidence: Evidence, policy: AlertPolicy) -> list[AlertCandidate]:
    d = evidence.definition
    if d.respondent is not Respondent.CLIENT:
        return []  # ruptures are read in the client's series
    found = []
    admin = str(evidence.administration_id)
    if evidence.score.get("clinical") is True:
        found.append(
            AlertCandidate(
                AlertKind.ALLIANCE_LOW, Severity.MEDIUM, f"alliance-low:{admin}",
                f"{d.id}:cutoff",
                {"administration_id": admin, "session": evidence.session,
                 "total": evidence.score.get("total")},
            )
        )  # fmt: skip
    r = evidence.signals.rupture
    if r is not None:
        found.append(
            AlertCandidate(
                AlertKind.RUPTURE, Severity.MEDIUM, f"rupture:{admin}", RUPTURE_RULE_VERSION,
                {"administration_id": admin, "session": r.session, "score": r.score,
                 "baseline": r.baseline, "threshold": r.threshold,
                 "baseline_sessions": policy.rupture.baseline_sessions,
                 "drop_sds": policy.rupture.drop_sds},
            )
        )  # fmt: skip
    drop = evidence.signals.drop
    if drop is not None:
        found.append(
            AlertCandidate(
                AlertKind.RUPTURE, Severity.MEDIUM, f"drop:{admin}",
                f"{RUPTURE_RULE_VERSION}:session-drop",
                {"administration_id": admin, "session": drop.session,
                 "previous": drop.previous, "score": drop.score,
                 "minimum_drop": policy.rupture.session_drop},
            )
        )  # fmt: skip
    return found


def _outcome(evidence: Evidence, policy: AlertPolicy) -> list[AlertCandidate]:
    d = evidence.definition
    found = []
    first = evidence.signals.first_session
    for signal in evidence.signals.not_on_track:
        details = {
            "administration_id": str(signal.administration_id),
            "session": signal.session,
            "first_session": first,
            "change": signal.change,
            "instrument": d.id,
            "minimum_change": d.total.reliable_change.minimum_change
            if d.total.reliable_change
            else None,
        }
        if signal.reason == "reliable-deterioration":
            found.append(
                AlertCandidate(
                    AlertKind.DETERIORATION, Severity.HIGH, f"deterioration:{d.id}:{first}",
                    f"{NOT_ON_TRACK_RULE_VERSION}:reliable-deterioration", details,
                )
            )  # fmt: skip
        else:
            found.append(
                AlertCandidate(
                    AlertKind.NOT_ON_TRACK, Severity.MEDIUM, f"not-on-track:{d.id}:{first}",
                    f"{NOT_ON_TRACK_RULE_VERSION}:no-reliable-improvement-by-"
                    f"{policy.not_on_track_by_session}", details,
                )
            )  # fmt: skip
    return found
