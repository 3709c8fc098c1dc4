"""The figures the district judges its service by (docs/measures.md): every rate is a numerator
and a denominator, never a bare percentage, so a report can always say "12 of 40" and a rate with
nothing to divide by is "—", not 0 %."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from bot.i18n import N_

ScopeKind = Literal["district", "community", "building", "team"]


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The share (0..1), or None when there is nothing to divide by."""
        return self.numerator / self.denominator if self.denominator else None


# The five rates' names: the keys of every mapping of rates (reports, charts), in the order they are shown.
AWARENESS = "awareness"  # 知晓率
PARTICIPATION = "participation"  # 参与率
SATISFACTION = "satisfaction"  # 满意率
RESPONSE = "response"  # 响应率
RESOLUTION = "resolution"  # 解决率
RATE_KEYS = (AWARENESS, PARTICIPATION, SATISFACTION, RESPONSE, RESOLUTION)
RATE_NAMES = {AWARENESS: N_("Awareness rate"), PARTICIPATION: N_("Participation rate"),
              SATISFACTION: N_("Satisfaction rate"), RESPONSE: N_("Response rate"),
              RESOLUTION: N_("Resolution rate")}


@dataclass(frozen=True)
class Scope:
    """Where: the whole district, or one community (by name), building (by code) or team (by code)."""

    kind: ScopeKind = "district"
    key: str = ""


@dataclass(frozen=True)
class Period:
    """When: local calendar days ``start`` (inclusive) to ``end`` (exclusive), in the centre's zone."""

    start: dt.date
    end: dt.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(dt.date(year, month, 1), following)


@dataclass(frozen=True)
class Measures:
    """Every rate of one scope and period (docs/measures.md), each with its numerator and
    denominator, and the medians (minutes; None when no order got that far)."""

    awareness: Rate  # 知晓率: households reached / households in the scope
    volunteers_served: Rate  # 参与率: approved volunteers who served / approved volunteers
    residents_ordered: Rate  # 参与率: residents who ordered / households reached
    satisfaction: Rate  # 满意率: satisfied ratings / ratings given ("not solved" is not satisfied)
    unrated: Rate  # orders closed with no rating / (ratings given + those): shown beside, never dropped
    response: Rate  # 响应率: accepted within the configured minutes / placed and not refused
    resolution: Rate  # 解决率: done and never reopened / placed and not refused
    median_accept_minutes: float | None
    median_done_minutes: float | None

    def chart_rates(self) -> dict[str, Rate]:
        """The five rates the charts draw (:data:`RATE_KEYS`); 参与率 is the volunteers' (those who
        served among the approved), the residents' share stays in the tables."""
        return {AWARENESS: self.awareness, PARTICIPATION: self.volunteers_served, SATISFACTION: self.satisfaction,
                RESPONSE: self.response, RESOLUTION: self.resolution}

    def rates(self) -> dict[str, Rate]:
        """The rates by name, in the order reports show them."""
        return {"awareness": self.awareness, "volunteers_served": self.volunteers_served,
                "residents_ordered": self.residents_ordered, "satisfaction": self.satisfaction,
                "unrated": self.unrated, "response": self.response, "resolution": self.resolution}


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count), None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
