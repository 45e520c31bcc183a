"""Use cases over the instrument catalogue: browse it and score without storing."""

from __future__ import annotations

from collections.abc import Mapping

from service.domain.errors import InstrumentNotFound
from service.domain.instruments.catalogue import Catalogue
from service.domain.instruments.model import InstrumentDefinition, Respondent
from service.domain.scoring.result import ScoreResult
from service.domain.scoring.scorer import Scorer


class InstrumentService:
    """Holds one compiled scorer per catalogue entry; built once at start-up."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._scorers = {d.id: Scorer(d) for d in catalogue}

    def list(self) -> list[InstrumentDefinition]:
        return list(self._catalogue)

    def get(self, instrument_id: str) -> InstrumentDefinition:
        return self._catalogue.get(instrument_id)

    def concordance_pairs(self) -> dict[str, str]:
        """Client form id to therapist form id, for every client form that has a paired
        therapist form and concordance constants (WAI-SR/WAI-SR-T, HAq-II/HAq-II-T, and
        pairs from extra instrument files): the pairs concordance and calibration compare."""
        return {
            d.id: d.paired_form
            for d in self._catalogue
            if d.respondent is Respondent.CLIENT and d.paired_form and d.concordance
        }

    def score(
        self, instrument_id: str, responses: Mapping[str, object], population: str | None
    ) -> ScoreResult:
        return self._scorer(instrument_id).score(responses, population)

    def check(self, instrument_id: str, responses: Mapping[str, object]) -> None:
        """Refuse answers ``score`` would refuse, without scoring them."""
        self._scorer(instrument_id).check(responses)

    def _scorer(self, instrument_id: str) -> Scorer:
        scorer = self._scorers.get(instrument_id)
        if scorer is None:
            raise InstrumentNotFound(instrument_id)
        return scorer
