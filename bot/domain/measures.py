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
