"""Progress, concordance and practitioner calibration: read-only views over stored scores."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from service.app.audit import audited, record
from service.app.auth import require
from service.app.instruments import InstrumentService
from service.app.ports import Store, Transact
from service.app.rules import ClinicalRules
from service.domain.calibration import DyadDifferences, combine
from service.domain.concordance import (
    RULE_VERSION,
    Agreement,
    DiscordanceRule,
    PairedRating,
    Rated,
    agreement,
    pair_sessions,
)
from service.domain.errors import FieldError, NotFound, ValidationFailed
from service.domain.instruments.model import InstrumentDefinition, Population, Respondent
from service.domain.nhs_talking_therapies import PairedOutcome, paired_outcome
from service.domain.progress import Observation, Progress, progress
from service.domain.records import Principal, Scope

NHS_TT_PAIR = ("phq-9", "gad-7")


@dataclass(frozen=True, slots=True)
class ProgressView:
    dyad_id: uuid.UUID
    population: Population
    progress: Progress
    nhs_talking_therapies: PairedOutcome | None


@dataclass(frozen=True, slots=True)
class ConcordanceView:
    dyad_id: uuid.UUID
    client_form: InstrumentDefinition
    therapist_form: InstrumentDefinition
    rule: DiscordanceRule
    sessions: list[PairedRating]
    summary: Agreement
    subscales: dict[str, Agreement]


@dataclass(frozen=True, slots=True)
class Calibration:
    client_form: str
    therapist_form: str
    dyads: int
    pairs: int
    bias: float | None  # mean client minus therapist
    spread: float | None  # SD of the differences
    expected_offset: float
    tendency: str | None  # see _tendency
    per_dyad: dict[uuid.UUID, float]  # mean difference per dyad
    # Per dyad: the number of paired sessions and the SD of their differences (None below
    # two), for the interval of each dyad's mean (the calibration chart).
    per_dyad_spread: dict[uuid.UUID, tuple[int, float | None]] = field(default_factory=dict)


class Insights:
    def __init__(
        self, transact: Transact, instruments: InstrumentService, rules: ClinicalRules
    ) -> None:
        self._transact = transact
        self._instruments = instruments
        self._rules = rules

    async def progress(
        self, principal: Principal, dyad_id: uuid.UUID, instrument: str
    ) -> ProgressView:
        await require(self._transact, principal, Scope.READ, "progress.read")
        definition = self._instruments.get(instrument)
        wanted = sorted({instrument, *NHS_TT_PAIR}) if instrument in NHS_TT_PAIR else [instrument]

        def work(store: Store) -> ProgressView:
            found = store.dyad_context(principal.tenant_id, dyad_id)
            if found is None:
                raise NotFound(f"No dyad {dyad_id}.")
            population = found.population or Population.ADULT
            history = store.observations(principal.tenant_id, dyad_id, wanted)
            series = _series(history)
            view = ProgressView(
                dyad_id,
                population,
                progress(definition, series.get(instrument, []), population),
                paired_outcome(
                    series.get("phq-9", []), series.get("gad-7", []), self._rules.pair_rules
                )
                if instrument in NHS_TT_PAIR
                else None,
            )
            record(store, principal, "progress.read", "dyad", dyad_id)
            return view

        return await audited(
            self._transact, principal, "progress.read", "dyad", dyad_id, work, read_only=True
        )

    async def concordance(
        self, principal: Principal, dyad_id: uuid.UUID, instrument: str
    ) -> ConcordanceView:
        await require(self._transact, principal, Scope.READ, "concordance.read")
        client, therapist, rule = self._pair(instrument)

        def work(store: Store) -> ConcordanceView:
            history = store.observations(principal.tenant_id, dyad_id, [client.id, therapist.id])
            # Rows of the tenant's dyad prove it exists; only an empty history needs the check.
            if not history and store.dyad(principal.tenant_id, dyad_id) is None:
                raise NotFound(f"No dyad {dyad_id}.")
            rated: dict[str, list[Rated]] = {client.id: [], therapist.id: []}
            for name, r in history:
                rated[name].append(r)
            pairs = pair_sessions(rated[client.id], rated[therapist.id], rule, client.total_scale)
            subscales: dict[str, list[tuple[int, float, float]]] = {}
            for p in pairs:
                for scale, c, t, _ in p.subscales:
                    subscales.setdefault(scale, []).append((p.session, c, t))
            view = ConcordanceView(
                dyad_id, client, therapist, rule, pairs,
                agreement([(p.session, p.client, p.therapist) for p in pairs]),
                {name: agreement(triples) for name, triples in subscales.items()},
            )  # fmt: skip
            record(store, principal, "concordance.read", "dyad", dyad_id)
            return view

        return await audited(
            self._transact, principal, "concordance.read", "dyad", dyad_id, work, read_only=True
        )

    async def calibration(
        self, principal: Principal, practitioner_id: uuid.UUID
    ) -> list[Calibration]:
        await require(self._transact, principal, Scope.READ, "calibration.read")
        forms = [self._pair(client) for client in self._instruments.concordance_pairs()]

        def work(store: Store) -> list[Calibration]:
            if store.practitioner(principal.tenant_id, practitioner_id) is None:
                raise NotFound(f"No practitioner {practitioner_id}.")
            rows = store.alliance_summaries(
                principal.tenant_id, practitioner_id, [c.id for c, _, _ in forms]
            )
            result = [
                _calibrate(c, t, rule, [(dyad, s) for dyad, form, s in rows if form == c.id])
                for c, t, rule in forms
            ]
            record(store, principal, "calibration.read", "practitioner", practitioner_id)
            return result

        return await audited(
            self._transact, principal, "calibration.read", "practitioner", practitioner_id,
            work, read_only=True,
        )  # fmt: skip

    def _pair(
        self, instrument: str
    ) -> tuple[InstrumentDefinition, InstrumentDefinition, DiscordanceRule]:
        client = self._instruments.get(instrument)
        rule = self._rules.discordance(client)
        if client.respondent is not Respondent.CLIENT or client.paired_form is None or not rule:
            raise ValidationFailed(
                f"{client.short_name} is not the client form of a client/therapist pair.",
                (FieldError("instrument", "not-a-client-form", "Use wai-sr or haq-ii."),),
            )
        return client, self._instruments.get(client.paired_form), rule


def _series(history: list[tuple[str, Rated]]) -> dict[str, list[Observation]]:
    grouped: dict[str, list[Observation]] = {}
    for instrument, rated in history:
        grouped.setdefault(instrument, []).append(rated.observation)
    return grouped


def _calibrate(
    client: InstrumentDefinition,
    therapist: InstrumentDefinition,
    rule: DiscordanceRule,
    dyads: list[tuple[uuid.UUID, DyadDifferences]],
) -> Calibration:
    """A practitioner's calibration on one pair, from their dyads' summaries (each dyad's
    paired sessions, kept by the writes: service.app.alliance_summaries)."""
    caseload = combine(s for _, s in dyads)
    bias, sd = _r(caseload.mean), _r(caseload.sd)
    return Calibration(
        client_form=client.id,
        therapist_form=therapist.id,
        dyads=len(dyads),
        pairs=caseload.pairs,
        bias=bias,
        spread=sd,
        expected_offset=rule.expected_offset,
        tendency=_tendency(caseload.pairs, bias, sd, rule),
        per_dyad={dyad: round(s.mean, 6) for dyad, s in dyads},
        per_dyad_spread={dyad: (s.pairs, _r(s.sd)) for dyad, s in dyads},
    )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _tendency(n: int, bias: float | None, sd: float | None, rule: DiscordanceRule) -> str | None:
    """Whether the practitioner's ratings sit reliably above or below their clients'.

    Compares the mean difference with the expected client-over-therapist offset, with the
    standard error of that mean (SD / sqrt(n)); needs at least five paired sessions.
    """
    if n < 5 or bias is None or not sd:
        return None
    z = (bias - rule.expected_offset) / (sd / math.sqrt(n))
    if z < -rule.z:
        return "therapist-higher-than-expected"  # rates the alliance above what clients do
    if z > rule.z:
        return "therapist-lower-than-expected"
    return "as-expected"


__all__ = ["RULE_VERSION", "Calibration", "ConcordanceView", "Insights", "ProgressView"]
