"""The closed vocabularies of arguments as GraphQL enums, so the schema refuses a typo.

A ``String`` argument let ``dyad { alerts(status: "opn") }`` answer ``[]`` where the
top-level ``alerts`` refused the same word: each resolver had to remember to check. As enums,
graphql-core refuses an unknown value during validation, for every field alike. The enum
values are named as the domain's values are spelt (``open``, ``adolescent``), hyphens as
underscores (``not_on_track``), so the SDL reads like the REST contract; a variable may still
send the name as a string (``"status": "open"``). Outputs stay strings: an enum would
respell ``not-on-track`` on the wire.
"""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry

from service.domain.alerts import AlertKind, AlertStatus
from service.domain.instruments.model import Population, Respondent

E = TypeVar("E", bound=enum.Enum)


@strawberry.enum(name="AlertStatus", description="An alert's place in its lifecycle.")
class AlertStatusArg(enum.Enum):
    open = AlertStatus.OPEN.value
    acknowledged = AlertStatus.ACKNOWLEDGED.value
    resolved = AlertStatus.RESOLVED.value


@strawberry.enum(name="AlertKind", description="What an alert is about.")
class AlertKindArg(enum.Enum):
    risk = AlertKind.RISK.value
    alliance_low = AlertKind.ALLIANCE_LOW.value
    rupture = AlertKind.RUPTURE.value
    discordance = AlertKind.DISCORDANCE.value
    deterioration = AlertKind.DETERIORATION.value
    not_on_track = AlertKind.NOT_ON_TRACK.value


@strawberry.enum(name="Population", description="Whose norms and cut-offs apply.")
class PopulationArg(enum.Enum):
    adult = Population.ADULT.value
    adolescent = Population.ADOLESCENT.value
    child = Population.CHILD.value


@strawberry.enum(name="Respondent", description="Who completes an instrument.")
class RespondentArg(enum.Enum):
    client = Respondent.CLIENT.value
    therapist = Respondent.THERAPIST.value


MIRRORS: dict[type[enum.Enum], type[enum.Enum]] = {
    AlertStatusArg: AlertStatus,
    AlertKindArg: AlertKind,
    PopulationArg: Population,
    RespondentArg: Respondent,
}
"""Each GraphQL enum and the domain enum it mirrors (a test checks they hold the same values)."""


def domain(kind: type[E], value: enum.Enum | None) -> E | None:
    """The domain member a GraphQL enum value stands for; None for None."""
    return None if value is None else kind(value.value)
