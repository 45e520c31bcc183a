"""Specification of alert evaluation after one administration is stored (domain only).

``evaluate`` raises, for the new administration only: risk (a ``risk`` flag in the stored
score), alliance-low (client alliance form on the clinical side of its cut-off), rupture and
session drop (client alliance series), discordance (the session's client/therapist pair),
reliable deterioration and not-on-track (outcome series). Each candidate carries an evidence
key naming the evidence, so the same evidence never raises the same alert twice.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from service.app.rendering import score_dict
from service.domain.alerts import (
    AlertCandidate,
    AlertKind,
    AlertPolicy,
    Evidence,
    Severity,
    evaluate,
)
from service.domain.concordance import Direction as PairDirection
from service.domain.concordance import PairedRating
from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Direction
from service.domain.progress import Observation
from service.domain.ruptures import RuptureRule
from service.domain.series_summary import Signals, fold
from tests.unit.instruments.conftest import answers, definition, score
from tests.unit.statistics.builders import obs, series

DEFAULT = AlertPolicy()


def plain(total: float, clinical: bool | None = False) -> dict[str, Any]:
    """A stored score with no flags."""
    return {"total": total, "clinical": clinical, "flags": []}


def evidence_at(
    instrument: str,
    history: list[Observation],
    index: int = -1,
    score: dict[str, Any] | None = None,
    pair: PairedRating | None = None,
    policy: AlertPolicy = DEFAULT,
) -> Evidence:
    """Evidence for storing ``history[index]``: what the series rules of ``policy`` find
    there, folding the whole history."""
    new = history[index]
    assert new.total is not None
    d = definition(instrument)
    _, signals = fold(history, policy.series_rules(d), new.administration_id)
    return Evidence(
        d,
        new.administration_id,
        new.session,
        score if score is not None else plain(new.total),
        signals,
        pair,
    )


def of_kind(candidates: list[AlertCandidate], kind: AlertKind) -> list[AlertCandidate]:
    return [c for c in candidates if c.kind is kind]


def paired(session: int, client: float, therapist: float, discordant: bool) -> PairedRating:
    diff = client - therapist
    direction = PairDirection.CLIENT_HIGHER if diff > 0 else PairDirection.THERAPIST_HIGHER
    return PairedRating(
        session, uuid.uuid4(), uuid.uuid4(), client, therapist, diff, direction, discordant, ()
    )


# --- risk -----------------------------------------------------------------------------------


def test_a_risk_flag_raises_a_high_risk_alert() -> None:
    # PHQ-9 item 9 answered 2 -> the scorer's ``risk`` flag (source camcops)
    stored = score_dict(score("phq-9", answers([1, 1, 1, 1, 1, 1, 1, 1, 2])))
    history = series([stored["total"]])
    admin = str(history[0].administration_id)
    (c,) = evaluate(evidence_at("phq-9", history, score=stored), DEFAULT)
    assert c.kind is AlertKind.RISK
    assert c.severity is Severity.HIGH
    assert c.evidence_key == f"risk:{admin}"
    assert c.rule == "phq-9:camcops"
    assert c.evidence == {
        "administration_id": admin,
        "session": 1,
        "items": ["9"],
        "message": stored["flags"][0]["message"],
    }


def test_other_flags_raise_no_risk_alert() -> None:
    # SRS lines 7, 8, 8, 7: total 30, a 'low-item' flag (not 'risk')
    stored = score_dict(score("srs", answers([7, 8, 8, 7])))
    assert [f["code"] for f in stored["flags"]] == ["low-item"]
    candidates = evaluate(evidence_at("srs", series([30]), score=stored), DEFAULT)
    assert of_kind(candidates, AlertKind.RISK) == []


# --- alliance low ---------------------------------------------------------------------------


def test_srs_on_the_clinical_side_raises_alliance_low() -> None:
    # SRS 7 + 8 + 8 + 7 = 30 < 36 -> clinical True
    stored = score_dict(score("srs", answers([7, 8, 8, 7])))
    assert (stored["total"], stored["clinical"]) == (30, True)
    history = series([30])
    admin = str(history[0].administration_id)
    (c,) = evaluate(evidence_at("srs", history, score=stored), DEFAULT)
    assert c.kind is AlertKind.ALLIANCE_LOW
    assert c.severity is Severity.MEDIUM
    assert c.evidence_key == f"alliance-low:{admin}"
    assert c.rule == "srs:cutoff"
    assert c.evidence == {"administration_id": admin, "session": 1, "total": 30}


def test_srs_at_36_raises_nothing() -> None:
    stored = score_dict(score("srs", answers([9, 9, 9, 9])))  # 36: not below 36
    assert evaluate(evidence_at("srs", series([36]), score=stored), DEFAULT) == []


def test_an_outcome_instrument_on_the_clinical_side_is_not_an_alliance_alert() -> None:
    # PHQ-9 14 (>= 10, clinical) at the first session: nothing to raise
    assert evaluate(evidence_at("phq-9", series([14]), score=plain(14, True)), DEFAULT) == []


# --- ruptures and drops ---------------------------------------------------------------------


def test_a_rupture_at_the_new_administration_is_raised() -> None:
    # SRS 36, 38, 37 -> baseline 37, SD 1, threshold 37 - 2 x 1 = 35; 30 < 35 at session 4
    history = series([36, 38, 37, 30])
    admin = str(history[3].administration_id)
    (c,) = evaluate(evidence_at("srs", history), DEFAULT)
    assert c.kind is AlertKind.RUPTURE
    assert c.severity is Severity.MEDIUM
    assert c.evidence_key == f"rupture:{admin}"
    assert c.rule == "rupture-1"
    assert c.evidence == {
        "administration_id": admin,
        "session": 4,
        "score": 30,
        "baseline": pytest.approx(37),
        "threshold": pytest.approx(35),
        "baseline_sessions": 3,
        "drop_sds": 2.0,
    }


def test_an_earlier_rupture_is_not_raised_again_by_a_later_administration() -> None:
    # the rupture is at session 4; storing session 5 (31: window 38, 37, 30, threshold
    # 35 - 2 x 4.359 = 26.28, no new rupture) raises nothing
    history = series([36, 38, 37, 30, 31])
    assert of_kind(evaluate(evidence_at("srs", history), DEFAULT), AlertKind.RUPTURE) == []
    # nor does storing an earlier administration again
    assert of_kind(evaluate(evidence_at("srs", history, 2), DEFAULT), AlertKind.RUPTURE) == []


def test_a_session_drop_is_raised_when_the_policy_sets_a_minimum() -> None:
    # 38 -> 33 is a drop of 5 >= 4
    policy = AlertPolicy(rupture=RuptureRule(session_drop=4.0))
    history = series([38, 33])
    admin = str(history[1].administration_id)
    (c,) = evaluate(evidence_at("srs", history, policy=policy), policy)
    assert c.kind is AlertKind.RUPTURE
    assert c.evidence_key == f"drop:{admin}"
    assert c.rule == "rupture-1:session-drop"
    assert c.evidence == {
        "administration_id": admin,
        "session": 2,
        "previous": 38,
        "score": 33,
        "minimum_drop": 4.0,
    }
    # no minimum set (the default): no drop alert
    assert evaluate(evidence_at("srs", history), DEFAULT) == []
    # a drop of 3 is below the minimum of 4
    assert evaluate(evidence_at("srs", series([38, 35]), policy=policy), policy) == []


def test_therapist_forms_raise_no_ruptures_drops_or_alliance_low() -> None:
    # WAI-SR-T 48, 50, 49 -> 30: a rupture shape and a drop of 19, flagged clinical,
    # but ruptures are read in the client's series only
    policy = AlertPolicy(rupture=RuptureRule(session_drop=4.0))
    history = series([48, 50, 49, 30])
    assert definition("wai-sr-t").respondent.value == "therapist"
    therapist = evidence_at("wai-sr-t", history, score=plain(30, True), policy=policy)
    candidates = evaluate(therapist, policy)
    assert candidates == []


def test_the_client_form_of_the_same_series_does_raise_them() -> None:
    # WAI-SR 48, 50, 49 -> mean 49, SD 1, threshold 47; 30 < 47 -> rupture; drop 19 >= 4
    policy = AlertPolicy(rupture=RuptureRule(session_drop=4.0))
    history = series([48, 50, 49, 30])
    client = evidence_at("wai-sr", history, policy=policy)
    kinds = [c.evidence_key.split(":")[0] for c in evaluate(client, policy)]
    assert kinds == ["rupture", "drop"]


# --- discordance ----------------------------------------------------------------------------


def test_a_discordant_pair_raises_a_low_discordance_alert() -> None:
    pair = paired(2, 58, 40, discordant=True)
    history = series([50, 58])
    (c,) = evaluate(evidence_at("wai-sr", history, pair=pair), DEFAULT)
    assert c.kind is AlertKind.DISCORDANCE
    assert c.severity is Severity.LOW
    assert c.evidence_key == (
        f"discordance:{pair.client_administration}:{pair.therapist_administration}"
    )
    assert c.rule == "concordance-1"
    assert c.evidence == {
        "session": 2,
        "client": 58,
        "therapist": 40,
        "difference": 18,
        "direction": "client-higher",
        "client_administration_id": str(pair.client_administration),
        "therapist_administration_id": str(pair.therapist_administration),
    }


def test_a_concordant_pair_raises_nothing() -> None:
    pair = paired(2, 50, 46, discordant=False)
    assert evaluate(evidence_at("wai-sr", series([50, 50]), pair=pair), DEFAULT) == []


def test_the_same_pair_gives_the_same_key_from_either_form() -> None:
    # the therapist's administration completing the pair raises the same evidence key, so the
    # store keeps one discordance alert for the pair
    pair = paired(1, 58, 40, discordant=True)
    from_client = evaluate(evidence_at("wai-sr", series([58]), pair=pair), DEFAULT)
    from_therapist = evaluate(evidence_at("wai-sr-t", series([40]), pair=pair), DEFAULT)
    assert [c.evidence_key for c in from_client] == [c.evidence_key for c in from_therapist]
    assert [c.kind for c in from_therapist] == [AlertKind.DISCORDANCE]


# --- deterioration and not-on-track ---------------------------------------------------------


def test_reliable_deterioration_raises_a_high_alert_once() -> None:
    # PHQ-9 10 -> 17: +7 >= 6 at session 2
    history = series([10, 17])
    admin = str(history[1].administration_id)
    (c,) = evaluate(evidence_at("phq-9", history), DEFAULT)
    assert c.kind is AlertKind.DETERIORATION
    assert c.severity is Severity.HIGH
    assert c.evidence_key == "deterioration:phq-9:1"
    assert c.rule == "not-on-track-1:reliable-deterioration"
    assert c.evidence == {
        "administration_id": admin,
        "session": 2,
        "first_session": 1,
        "change": 7,
        "instrument": "phq-9",
        "minimum_change": 6,
    }
    # session 3 (18, +8) is still deteriorated but was not the first: nothing new
    later = series([10, 17, 18])
    assert evaluate(evidence_at("phq-9", later), DEFAULT) == []


def test_deterioration_evidence_names_the_session_the_change_is_measured_from() -> None:
    # Session 1: PHQ-9 10, then re-administered in session 1 with too many items missing
    # (stored unscored, total None). The re-administration supersedes (latest per session),
    # so session 1 has no score and the baseline is session 2 (12), as progress() and
    # not_on_track() both use. Session 3: 19 - 12 = +7 >= 6 -> reliable deterioration
    # measured from session 2. The evidence must say so: first_session 2 (not the superseded
    # session 1, from which the change would be 19 - 10 = 9, not the 7 reported).
    history = [obs(1, 10), obs(1, None, minutes=30), obs(2, 12), obs(3, 19)]
    (c,) = evaluate(evidence_at("phq-9", history), DEFAULT)
    assert c.kind is AlertKind.DETERIORATION
    assert c.evidence["change"] == 7
    assert c.evidence["first_session"] == 2
    assert c.evidence_key == "deterioration:phq-9:2"


def test_not_on_track_by_session_six() -> None:
    # PHQ-9 15, 14, 13, 12, 12, 11: -4 at session 6, never a reliable improvement
    history = series([15, 14, 13, 12, 12, 11])
    (c,) = evaluate(evidence_at("phq-9", history), DEFAULT)
    assert c.kind is AlertKind.NOT_ON_TRACK
    assert c.severity is Severity.MEDIUM
    assert c.evidence_key == "not-on-track:phq-9:1"
    assert c.rule == "not-on-track-1:no-reliable-improvement-by-6"
    assert (c.evidence["session"], c.evidence["change"]) == (6, -4)
    # storing session 5 raised nothing (not yet at session 6)
    assert evaluate(evidence_at("phq-9", history[:5]), DEFAULT) == []


def test_not_on_track_session_is_a_policy_setting() -> None:
    policy = AlertPolicy(not_on_track_by_session=4)
    (c,) = evaluate(evidence_at("phq-9", series([15, 14, 13, 12]), policy=policy), policy)
    assert c.rule == "not-on-track-1:no-reliable-improvement-by-4"


def test_outcome_on_the_higher_is_better_side() -> None:
    # ORS 30 -> 24: -6, a fall of at least 5 -> deterioration
    (c,) = evaluate(evidence_at("ors", series([30, 24])), DEFAULT)
    assert c.kind is AlertKind.DETERIORATION
    assert c.evidence["minimum_change"] == 5


def test_alliance_instruments_raise_no_outcome_alerts() -> None:
    # WAI-SR 55 -> 20 over six sessions: a rupture perhaps, but never deterioration/NOT
    history = series([55, 55, 55, 55, 55, 20])
    kinds = {c.kind for c in evaluate(evidence_at("wai-sr", history), DEFAULT)}
    assert AlertKind.DETERIORATION not in kinds
    assert AlertKind.NOT_ON_TRACK not in kinds


# --- evidence keys --------------------------------------------------------------------------


def srs_everything() -> tuple[Evidence, AlertPolicy]:
    """One SRS administration that raises every alliance kind at once (session 4: 30)."""
    history = series([36, 38, 37, 30])
    stored = plain(30, True) | {
        "flags": [{"code": "risk", "message": "m", "items": ["1"], "scale": None, "source": "s"}]
    }
    pair = paired(4, 30, 10, discordant=True)
    policy = AlertPolicy(rupture=RuptureRule(session_drop=4.0))
    return evidence_at("srs", history, score=stored, pair=pair, policy=policy), policy


def test_same_evidence_gives_the_same_candidates_and_keys() -> None:
    evidence, policy = srs_everything()
    assert evaluate(evidence, policy) == evaluate(evidence, policy)
    history = series([10, 17])
    again = [c.evidence_key for c in evaluate(evidence_at("phq-9", history), DEFAULT)]
    assert again == [c.evidence_key for c in evaluate(evidence_at("phq-9", history), DEFAULT)]


def test_evidence_keys_are_distinct_across_kinds() -> None:
    evidence, policy = srs_everything()
    candidates = evaluate(evidence, policy)
    assert [c.kind for c in candidates] == [
        AlertKind.RISK, AlertKind.ALLIANCE_LOW, AlertKind.RUPTURE, AlertKind.RUPTURE,
        AlertKind.DISCORDANCE,
    ]  # fmt: skip
    outcome = evaluate(evidence_at("phq-9", series([12, 18, 16, 15, 14, 13])), DEFAULT)
    deterioration = evaluate(evidence_at("phq-9", series([12, 18])), DEFAULT)
    keys = [c.evidence_key for c in [*candidates, *outcome, *deterioration]]
    assert len(keys) == 7
    assert len(set(keys)) == len(keys)


def test_evidence_keys_differ_between_administrations() -> None:
    history = series([30, 30])
    first = evaluate(evidence_at("srs", history, 0, score=plain(30, True)), DEFAULT)
    second = evaluate(evidence_at("srs", history, 1, score=plain(30, True)), DEFAULT)
    assert first[0].evidence_key != second[0].evidence_key


# Which forms read their history ------------------------------------------------------------


@pytest.mark.parametrize("instrument", sorted(d.id for d in load_catalogue()))
def test_the_history_matters_exactly_where_a_series_rule_reads_it(instrument: str) -> None:
    # Three sessions at the good end of the range, then the bad end: a reliable
    # deterioration, a rupture and a session drop, for the rules that read the series.
    d = definition(instrument)
    low, high = d.scale_range(d.total)
    good, bad = (high, low) if d.direction is Direction.HIGHER_IS_BETTER else (low, high)
    new = obs(4, bad)
    full = evidence_at(instrument, [*series([good] * 3), new], score=plain(bad, clinical=True))
    alone = evidence_at(instrument, [new], score=plain(bad, clinical=True))
    if DEFAULT.series_rules(d).reads_history:
        assert evaluate(full, DEFAULT) != evaluate(alone, DEFAULT), "the rules see this series"
    else:
        assert full.signals == Signals(), "no series rule: nothing is read"
        assert evaluate(full, DEFAULT) == evaluate(alone, DEFAULT)


def test_which_forms_read_their_history() -> None:
    def reads(instrument: str) -> bool:
        return DEFAULT.series_rules(definition(instrument)).reads_history

    assert reads("phq-9")  # reliable deterioration, not-on-track
    assert reads("wai-sr")  # ruptures in the client's series
    assert not reads("wai-sr-t")  # only its session's pair
    assert not reads("k10")  # no reliable-change threshold
