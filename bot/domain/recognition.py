"""Recognition (典型推介): who is a team's 志愿之星 and which team is the 五星服务队 of a month
(docs/recognition.md). Pure: the figures come in, a ranking goes out.

Every component is a number from 0 to 1, so the configured weights say plainly how much each
counts. Arithmetic is exact (:class:`~fractions.Fraction`): two equal scores are equal, and the
tie-breakers — more hours, then whoever served first in the month, then the smaller id — decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import median

from bot.domain.measures import Rate


@dataclass(frozen=True)
class Weights:
    """``[recognition]`` weights; only their ratios matter."""

    orders: float = 0.4
    activities: float = 0.2
    satisfaction: float = 0.25
    response: float = 0.15
    response_reference_minutes: int = 60  # a response this fast scores one half


@dataclass(frozen=True)
class Figures:
    """What one candidate (a volunteer in a team, or a team) did in the month.

    ``members`` is 1 for a volunteer and the team's approved members for a team (the per-member
    normalisation that lets a small team win)."""

    key: int  # the user's or the team's id (the last tie-breaker)
    orders: int  # completed orders
    activities: int  # attended activities (present)
    satisfied: int  # ratings ≥ 4 of the rounds served
    rated: int  # ratings given for those rounds
    unrated: int  # rounds served with no rating (counted apart)
    response_minutes: tuple[float, ...]  # dispatch → accept of each round served
    minutes: int  # hours served (the ledger), in minutes
    first_served: dt.datetime | None  # the month's first completed order or attended activity
    members: int = 1

    @property
    def served(self) -> bool:
        return self.orders > 0 or self.activities > 0

    @property
    def satisfaction(self) -> Rate:
        return Rate(self.satisfied, self.rated)

    @property
    def median_response(self) -> float | None:
        return float(median(self.response_minutes)) if self.response_minutes else None


@dataclass(frozen=True)
class Ranked:
    figures: Figures
    score: Fraction
    parts: dict[str, Fraction]  # each component before its weight


def per_member(value: int, members: int) -> Fraction:
    return Fraction(value, max(members, 1))


def satisfaction_part(satisfied: int, rated: int) -> Fraction:
    """The share of good ratings, smoothed by one good and one poor rating assumed (Laplace): no
    ratings reads 1/2, one good rating 2/3, ten good 11/12 — a single rating does not outweigh many."""
    return Fraction(satisfied + 1, rated + 2)


def response_part(median_minutes: float | None, reference: int) -> Fraction:
    """reference / (reference + median): 0 minutes is 1, the reference is 1/2; none measured is 0."""
    if median_minutes is None:
        return Fraction(0)
    return Fraction(reference) / (Fraction(reference) + Fraction(median_minutes))


def _relative(value: Fraction, best: Fraction) -> Fraction:
    return value / best if best else Fraction(0)


def rank(candidates: Sequence[Figures], weights: Weights) -> list[Ranked]:
    """The candidates who served, best first. Orders and activities (per member) count relative to
    the best among the candidates; satisfaction and response on their own scale."""
    served = [c for c in candidates if c.served]
    best_orders = max((per_member(c.orders, c.members) for c in served), default=Fraction(0))
    best_activities = max((per_member(c.activities, c.members) for c in served), default=Fraction(0))
    w = {name: Fraction(str(getattr(weights, name))) for name in ("orders", "activities", "satisfaction", "response")}
    ranked = []
    for c in served:
        parts = {"orders": _relative(per_member(c.orders, c.members), best_orders),
                 "activities": _relative(per_member(c.activities, c.members), best_activities),
                 "satisfaction": satisfaction_part(c.satisfied, c.rated),
                 "response": response_part(c.median_response, weights.response_reference_minutes)}
        ranked.append(Ranked(c, sum((w[k] * parts[k] for k in parts), Fraction(0)), parts))
    far_future = dt.datetime.max.replace(tzinfo=dt.UTC)
    ranked.sort(key=lambda r: (-r.score, -per_member(r.figures.minutes, r.figures.members),
                               r.figures.first_served or far_future, r.figures.key))
    return ranked


def best(candidates: Sequence[Figures], weights: Weights) -> Ranked | None:
    """The winner, or None when nobody served."""
    ranked = rank(candidates, weights)
    return ranked[0] if ranked else None


def team_figures(team_id: int, members: int, people: Sequence[Figures]) -> Figures:
    """A team's month: its members' figures added up, divided per member when ranked."""
    firsts = [p.first_served for p in people if p.first_served is not None]
    return Figures(key=team_id, orders=sum(p.orders for p in people), activities=sum(p.activities for p in people),
                   satisfied=sum(p.satisfied for p in people), rated=sum(p.rated for p in people),
                   unrated=sum(p.unrated for p in people),
                   response_minutes=tuple(m for p in people for m in p.response_minutes),
                   minutes=sum(p.minutes for p in people), first_served=min(firsts) if firsts else None,
                   members=members)


def points(ranked: Ranked) -> float:
    """The score as shown and stored: on a 100 scale, one decimal."""
    return round(float(ranked.score) * 100, 1)


def to_json(ranked: Ranked) -> dict[str, object]:
    """The figures behind a nomination, as stored (plain numbers)."""
    f = ranked.figures
    return {"orders": f.orders, "activities": f.activities, "satisfied": f.satisfied, "rated": f.rated,
            "unrated": f.unrated, "median_response": f.median_response, "minutes": f.minutes,
            "members": f.members, "score": points(ranked),
            "parts": {k: round(float(v), 4) for k, v in ranked.parts.items()}}
