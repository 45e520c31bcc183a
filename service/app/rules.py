"""The configurable clinical rules, as one value the use cases share.

Defaults and their sources are documented in docs/clinical-rules.md; each can be changed
with a ``RAPPORT_*`` setting where the literature disagrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.alerts import AlertPolicy
from service.domain.concordance import DiscordanceRule
from service.domain.instruments.model import InstrumentDefinition
from service.domain.nhs_talking_therapies import DeteriorationRule, PairRules
from service.domain.ruptures import RuptureRule
from service.domain.series_summary import SeriesRules


@dataclass(frozen=True, slots=True)
class ClinicalRules:
    rupture_baseline_sessions: int = 3
    rupture_drop_sds: float = 2.0
    rupture_repair_window: int = 3
    rupture_min_spread_fraction: float = 0.05  # of the total's range
    session_drop_fraction: float | None = 0.10  # of the total's range; None disables
    not_on_track_by_session: int = 6
    discordance_z: float = 1.96
    nhs_tt_deterioration: DeteriorationRule = DeteriorationRule.NO_IMPROVEMENT_ON_OTHER
    alerts_enabled: bool = True

    def alerting(self, definition: InstrumentDefinition) -> tuple[AlertPolicy, SeriesRules]:
        """The alert policy for an instrument and its series rules (built once per
        instrument: every store uses them)."""
        found = _ALERTING.get((self, id(definition)))
        if found is None or found[0] is not definition:
            if len(_ALERTING) >= 1024:  # bounded: a service has one set of rules
                _ALERTING.clear()
            low, high = definition.scale_range(definition.total)
            policy = _alert_policy(self, high - low)
            found = _ALERTING[(self, id(definition))] = (
                definition,
                policy,
                policy.series_rules(definition),
            )
        return found[1], found[2]

    def summarizes(self, definition: InstrumentDefinition) -> bool:
        """Whether alert evaluation keeps a series summary of this instrument."""
        return self.alerting(definition)[1].reads_history

    def reads_series(self, definition: InstrumentDefinition) -> bool:
        """Whether storing this instrument evaluates rules over its history (storing then
        reads the series' saved summary with the dyad)."""
        return self.alerts_enabled and self.summarizes(definition)

    def discordance(self, client_form: InstrumentDefinition) -> DiscordanceRule | None:
        k = client_form.concordance
        if k is None:
            return None
        return DiscordanceRule(
            sd_client=k.sd_client,
            sd_therapist=k.sd_therapist,
            reliability_client=k.reliability_client,
            reliability_therapist=k.reliability_therapist,
            expected_offset=k.expected_offset,
            source=k.source,
            z=self.discordance_z,
        )

    @property
    def pair_rules(self) -> PairRules:
        return PairRules(deterioration=self.nhs_tt_deterioration)


# By rules and definition; the definition is kept, so its id is never reused while cached.
_ALERTING: dict[
    tuple[ClinicalRules, int], tuple[InstrumentDefinition, AlertPolicy, SeriesRules]
] = {}


def _alert_policy(rules: ClinicalRules, span: float) -> AlertPolicy:
    """The policy for a total spanning ``span`` points (``alerting`` keeps it per instrument)."""
    drop = None if rules.session_drop_fraction is None else rules.session_drop_fraction * span
    return AlertPolicy(
        rupture=RuptureRule(
            baseline_sessions=rules.rupture_baseline_sessions,
            drop_sds=rules.rupture_drop_sds,
            repair_window=rules.rupture_repair_window,
            min_spread=rules.rupture_min_spread_fraction * span,
            session_drop=drop,
        ),
        not_on_track_by_session=rules.not_on_track_by_session,
    )
