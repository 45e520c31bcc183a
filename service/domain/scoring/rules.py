"""Item-level rules that stand beside the totals: risk items and symptom-count criteria.

Both read the answers as given (before reverse keying), because they are about what the
respondent said, and both fire whether or not any scale could be scored: an endorsed risk
item on an otherwise incomplete PHQ-9 must never be hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.domain.instruments.model import CriterionRule, ItemFlagRule
from service.domain.scoring.result import CriterionOutcome, Flag


def evaluate_item_flags(
    rules: Sequence[ItemFlagRule], raw: Sequence[float | None], position: Mapping[str, int]
) -> list[Flag]:
    flags = []
    for rule in rules:
        hits = []
        for item_id in rule.items:
            value = raw[position[item_id]]
            if value is not None and rule.comparison.holds(value, rule.value):
                hits.append(item_id)
        if hits:
            flags.append(Flag(rule.code, rule.description, tuple(hits), source=rule.source))
    return flags


def evaluate_criteria(
    rules: Sequence[CriterionRule], raw: Sequence[float | None], position: Mapping[str, int]
) -> tuple[tuple[CriterionOutcome, ...], list[Flag]]:
    outcomes = []
    flags = []
    for rule in rules:
        met: bool | None = True
        for group in rule.groups:
            values = [raw[position[i]] for i in group.items]
            endorsed = sum(1 for v in values if v is not None and v >= rule.endorse_at)
            unknown = sum(1 for v in values if v is None)
            if endorsed >= group.min_endorsed:
                continue
            if endorsed + unknown >= group.min_endorsed:
                met = None  # the missing items could still satisfy this group
            else:
                met = False
                break
        outcomes.append(CriterionOutcome(rule.id, met, rule.description, rule.source))
        if met:
            flags.append(Flag(rule.flag, rule.description, source=rule.source))
    return tuple(outcomes), flags
