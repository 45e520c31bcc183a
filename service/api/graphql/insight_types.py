"""GraphQL types for progress, concordance and calibration: built from the bodies REST
answers (service/app/insight_bodies.py), the same fields."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from service.api.graphql.bodies import from_body
from service.app.insight_bodies import calibration_body, concordance_body, progress_body
from service.app.insights import Calibration as CalibrationView
from service.app.insights import ConcordanceView, ProgressView


@strawberry.type
class ProgressPoint:
    administration_id: strawberry.ID
    session: int
    completed_at: datetime
    total: float | None
    change: float | None
    reliable_change: str | None
    clinical: bool | None


@strawberry.type
class ReliableChangeRule:
    minimum_change: float
    threshold: float | None
    z: float
    source: str


@strawberry.type
class ClinicalCutoff:
    method: str
    value: float
    comparison: str
    source: str


@strawberry.type
class Progress:
    dyad_id: strawberry.ID
    instrument: str
    direction: str
    population: str
    points: list[ProgressPoint]
    classification: str
    reason: str
    started_clinical: bool | None
    reliable_change_rule: ReliableChangeRule | None
    clinical_cutoff: ClinicalCutoff | None
    nhs_talking_therapies: JSON | None

    @classmethod
    def of(cls, view: ProgressView) -> Progress:
        body = progress_body(view)
        nhs = body["nhs_talking_therapies"]  # a JSON object here, in GraphQL's camelCase
        camel = None if nhs is None else {_camel(k): v for k, v in nhs.items()}
        return from_body(cls, body | {"nhs_talking_therapies": camel})


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


@strawberry.type
class Agreement:
    n: int
    bias: float | None
    sd: float | None
    lower_limit: float | None
    upper_limit: float | None
    correlation: float | None
    convergence_slope: float | None
    converging: bool | None


@strawberry.type
class SubscaleDifference:
    name: str
    client: float
    therapist: float
    difference: float


@strawberry.type
class SubscaleAgreement:
    name: str
    agreement: Agreement


@strawberry.type
class ConcordanceSession:
    session: int
    client: float
    therapist: float
    difference: float
    direction: str
    discordant: bool
    client_administration_id: strawberry.ID
    therapist_administration_id: strawberry.ID
    subscales: list[SubscaleDifference]


@strawberry.type
class Concordance:
    dyad_id: strawberry.ID
    instrument: str
    therapist_instrument: str
    sessions: list[ConcordanceSession]
    summary: Agreement
    subscales: list[SubscaleAgreement]
    rule_version: str
    expected_offset: float
    bound: float
    z: float
    se_difference: float
    source: str
    note: str

    @classmethod
    def of(cls, view: ConcordanceView) -> Concordance:
        """REST's body, with what REST keys by name listed, and the rule's fields flat."""
        body = concordance_body(view)
        rule = body["rule"]
        flat = {k: rule[k] for k in ("expected_offset", "bound", "z", "se_difference", "source")}
        listed = {
            "sessions": [s | {"subscales": _named(s["subscales"])} for s in body["sessions"]],
            "subscales": [{"name": n, "agreement": a} for n, a in body["subscales"].items()],
            "rule_version": rule["version"],
        }
        return from_body(cls, body | listed | flat)


def _named(by_name: dict[str, dict[str, float]]) -> list[dict[str, object]]:
    return [{"name": name, **values} for name, values in by_name.items()]


@strawberry.type
class DyadDifference:
    dyad_id: strawberry.ID
    mean_difference: float


@strawberry.type
class Calibration:
    instrument: str
    therapist_instrument: str
    dyads: int
    pairs: int
    bias: float | None
    spread: float | None
    expected_offset: float
    tendency: str | None
    per_dyad: list[DyadDifference]

    @classmethod
    def of(cls, c: CalibrationView) -> Calibration:
        body = calibration_body(c)
        per_dyad = [{"dyad_id": k, "mean_difference": v} for k, v in body["per_dyad"].items()]
        return from_body(cls, body | {"per_dyad": per_dyad})


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
