"""What alert evaluation remembers of one dyad's series of one instrument.

The series rules read the history before a new administration: not-on-track and reliable
deterioration need the first scored session and whether the series has already improved,
deteriorated or stalled; ruptures and session drops need the last k scored totals. Folding
the series in session order with ``advance`` keeps exactly that (a ``SeriesSummary``), and
the signals of each step are those the full-series rules (``ruptures``, ``session_drops``,
``not_on_track`` in service.domain.ruptures) find at that administration: they share their
arithmetic with it.

The store keeps one summary per (dyad, instrument) with what it covers (``SavedSummary``).
Storing an administration in a session after every folded one steps the summary once, so
alert evaluation costs the same at session 5 as at session 500. Anything else rebuilds it
from the whole series: an earlier session arriving late, a second administration in a
session, changed rules (the key no longer matches), or a summary the store marked
``STALE``. The store's writes keep that mark honest, so that checking a summary costs
nothing at any length of series: an administration stored without stepping the summary
(alerts off) marks it stale, and of two stores that stepped the same summary at once,
the second to write marks it stale instead of replacing the first's (each write changes
the row's version; a writer replaces the summary only if the version is still the one it
read).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from service.domain.instruments.model import (
    Construct,
    Direction,
    InstrumentDefinition,
    ReliableChange,
    Respondent,
)
from service.domain.progress import Observation
from service.domain.ruptures import (
    Drop,
    NotOnTrack,
    RepairStatus,
    Rupture,
    RuptureRule,
    Track,
    dropped,
    orientation,
    rupture_threshold,
    scored_sessions,
    track,
)

# Part of every summary's key: change it when the fold's meaning changes, and every stored
# summary is rebuilt from its series the next time it is used.
SUMMARY_VERSION = "series-summary-1"
# The key of a summary that may not cover its series: no rules have it.
STALE = "stale"


@dataclass(frozen=True, slots=True)
class SeriesRules:
    """Everything a summary depends on: the instrument's direction and reliable change, and
    the rupture and not-on-track settings."""

    direction: Direction
    alliance: bool  # a client's alliance form: ruptures and session drops
    rupture: RuptureRule
    reliable_change: ReliableChange | None  # outcome forms: not-on-track, deterioration
    not_on_track_by_session: int
    # Names these rules in a stored summary: one folded under other rules is stale.
    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(f"{SUMMARY_VERSION}|{self!r}".encode()).hexdigest()
        object.__setattr__(self, "key", digest[:32])

    @classmethod
    def of(
        cls, definition: InstrumentDefinition, rupture: RuptureRule, not_on_track_by_session: int
    ) -> SeriesRules:
        alliance = definition.construct is Construct.ALLIANCE
        return cls(
            direction=definition.direction,
            alliance=alliance and definition.respondent is Respondent.CLIENT,
            rupture=rupture,
            reliable_change=None if alliance else definition.total.reliable_change,
            not_on_track_by_session=not_on_track_by_session,
        )

    @property
    def reads_history(self) -> bool:
        return self.alliance or self.reliable_change is not None


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    track: Track = field(default_factory=Track)  # not-on-track's memory
    recent: tuple[float, ...] = ()  # the last k scored totals, oldest first (alliance)


@dataclass(frozen=True, slots=True)
class Signals:
    """What the series rules find at one administration."""

    first_session: int | None = None  # the session outcome change is measured from
    rupture: Rupture | None = None
    drop: Drop | None = None
    not_on_track: tuple[NotOnTrack, ...] = ()


def advance(
    summary: SeriesSummary, o: Observation, rules: SeriesRules
) -> tuple[SeriesSummary, Signals]:
    """Fold one scored session, later than every folded one, into ``summary``."""
    assert o.total is not None
    rupture = drop = None
    recent = summary.recent
    if rules.alliance:
        rule, sign = rules.rupture, orientation(rules.direction)
        k = rule.baseline_sessions
        if len(recent) == k:
            below = rupture_threshold([sign * v for v in recent], sign * o.total, rule)
            if below is not None:
                baseline, threshold = below
                rupture = Rupture(
                    o.session, o.administration_id, o.total, round(sign * baseline, 9),
                    round(sign * threshold, 9), RepairStatus.OPEN, None,
                )  # fmt: skip
        minimum, direction = rule.session_drop, rules.direction
        if recent and minimum is not None and dropped(recent[-1], o.total, direction, minimum):
            drop = Drop(o.session, o.administration_id, recent[-1], o.total)
        recent = (*recent, o.total)[-max(k, 1) :]
    state, found = summary.track, list[NotOnTrack]()
    if rules.reliable_change is not None:
        state, found = track(
            state, o, rules.direction, rules.reliable_change, rules.not_on_track_by_session
        )
    signals = Signals(state.first_session, rupture, drop, tuple(found))
    return SeriesSummary(state, recent), signals


def fold(
    series: Sequence[Observation], rules: SeriesRules, at: uuid.UUID
) -> tuple[SeriesSummary, Signals]:
    """The summary of a whole series, and the signals at administration ``at`` (none when it
    is not its session's latest scored administration)."""
    summary, signals = SeriesSummary(), Signals()
    for o in scored_sessions(series):
        summary, step = advance(summary, o, rules)
        if o.administration_id == at:
            signals = step
    return summary, signals


@dataclass(frozen=True, slots=True)
class SavedSummary:
    """A summary as the store keeps it, with what it covers."""

    rules_key: str
    administrations: int  # how many of the series' administrations it has folded
    last_session: int  # the latest session among them (0: none)
    summary: SeriesSummary


def summarize_new(
    saved: SavedSummary | None,
    new: Observation,
    rules: SeriesRules,
    read_series: Callable[[], Sequence[Observation]],
) -> tuple[SavedSummary, Signals]:
    """The series' summary once ``new`` is stored, and the signals at ``new``.

    The saved summary is stepped when it is current under these rules (not ``STALE``) and
    ``new`` is in a later session than any it folded; otherwise the series (``new``
    included) is read and folded again. Both give the same result (a property test holds
    them to it).
    """
    if saved is not None and saved.rules_key == rules.key and new.session > saved.last_session:
        summary, signals = saved.summary, Signals()
        if new.total is not None:
            summary, signals = advance(summary, new, rules)
        stepped = SavedSummary(rules.key, saved.administrations + 1, new.session, summary)
        return stepped, signals
    series = read_series()
    summary, signals = fold(series, rules, new.administration_id)
    last = max((o.session for o in series), default=0)
    return SavedSummary(rules.key, len(series), last, summary), signals
