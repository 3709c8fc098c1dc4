"""The recognition score (docs/recognition.md) on hand-computed cases: each part, the weights (and
the weights read from ``[recognition]``), the per-member team score that lets a small team win,
and the deterministic tie-breakers — more hours, then the earlier first service, then the id."""

from __future__ import annotations

import datetime as dt
import os
from fractions import Fraction
from pathlib import Path

import pytest

from bot.adapters.app import recognition_config
from bot.domain.recognition import (
    Figures,
    Weights,
    best,
    rank,
    response_part,
    satisfaction_part,
    team_figures,
    to_json,
)
from bot.settings import ConfigError, load_settings

DEFAULT = Weights()  # orders 0.4, activities 0.2, satisfaction 0.25, response 0.15; reference 60 min
T0 = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)


def person(key: int, orders: int = 0, activities: int = 0, satisfied: int = 0, rated: int = 0,
           response: tuple[float, ...] = (), minutes: int = 0, first: dt.datetime | None = T0,
           unrated: int = 0) -> Figures:
    return Figures(key=key, orders=orders, activities=activities, satisfied=satisfied, rated=rated,
                   unrated=unrated, response_minutes=response, minutes=minutes, first_served=first)


ANNA = person(1, orders=4, activities=1, satisfied=3, rated=3, response=(10, 20, 30), minutes=300)
BO = person(2, orders=2, activities=2, satisfied=1, rated=2, response=(60,), minutes=240, unrated=1)
IDLE = person(3, first=None)


def test_the_parts_of_a_score() -> None:
    assert satisfaction_part(0, 0) == Fraction(1, 2)  # no ratings: neither good nor bad
    assert satisfaction_part(1, 1) == Fraction(2, 3)
    assert satisfaction_part(10, 10) == Fraction(11, 12)  # many good ratings outweigh one
    assert satisfaction_part(0, 2) == Fraction(1, 4)
    assert response_part(0, 60) == 1
    assert response_part(60, 60) == Fraction(1, 2)
    assert response_part(20, 60) == Fraction(3, 4)
    assert response_part(None, 60) == 0  # nothing accepted: no response to score


def test_a_team_month_by_hand() -> None:
    """Anna: orders 4/4 = 1, activities 1/2, satisfaction 4/5, response 60/(60+20) = 3/4:
    0.4 + 0.1 + 0.2 + 0.1125 = 0.8125. Bo: 2/4, 2/2, 2/4, 60/120: 0.2 + 0.2 + 0.125 + 0.075 = 0.6.
    Someone who served nothing is not ranked."""
    ranked = rank([BO, IDLE, ANNA], DEFAULT)
    assert [r.figures.key for r in ranked] == [1, 2]
    assert ranked[0].score == Fraction(8125, 10000)
    assert ranked[0].parts == {"orders": 1, "activities": Fraction(1, 2), "satisfaction": Fraction(4, 5),
                               "response": Fraction(3, 4)}
    assert ranked[1].score == Fraction(6, 10)
    stored = to_json(ranked[0])
    assert stored["score"] == 81.2  # 81.25 on the 100 scale, to one decimal (half to even)
    assert (stored["orders"], stored["activities"], stored["satisfied"], stored["rated"],
            stored["median_response"], stored["minutes"]) == (4, 1, 3, 3, 20.0, 300)
    assert to_json(ranked[1])["unrated"] == 1


def test_nobody_served_means_no_star() -> None:
    assert best([IDLE], DEFAULT) is None
    assert best([], DEFAULT) is None


def test_the_weights_decide() -> None:
    """Activities alone: Bo (2 activities) beats Anna (1); response alone: Anna (20 min) beats Bo (60)."""
    winner = best([ANNA, BO], Weights(orders=0, activities=1, satisfaction=0, response=0))
    assert winner is not None and winner.figures.key == 2 and winner.score == 1
    winner = best([ANNA, BO], Weights(orders=0, activities=0, satisfaction=0, response=1))
    assert winner is not None and winner.figures.key == 1
    # a slower reference makes the same median count for more: 120 / (120 + 20) = 6/7
    slow = best([ANNA], Weights(orders=0, activities=0, satisfaction=0, response=1, response_reference_minutes=120))
    assert slow is not None and slow.score == Fraction(6, 7)


def test_ties_go_to_more_hours_then_the_earlier_first_service_then_the_smaller_id() -> None:
    twin = dict(orders=3, activities=1, satisfied=2, rated=2, response=(15,))
    fewer_hours = person(5, minutes=100, **twin)  # type: ignore[arg-type]
    more_hours = person(9, minutes=200, **twin)  # type: ignore[arg-type]
    assert [r.figures.key for r in rank([fewer_hours, more_hours], DEFAULT)] == [9, 5]
    later = person(4, minutes=200, first=T0 + dt.timedelta(days=2), **twin)  # type: ignore[arg-type]
    earlier = person(8, minutes=200, first=T0, **twin)  # type: ignore[arg-type]
    assert [r.figures.key for r in rank([later, earlier], DEFAULT)] == [8, 4]
    same = [person(7, minutes=200, **twin), person(6, minutes=200, **twin)]  # type: ignore[arg-type]
    assert [r.figures.key for r in rank(same, DEFAULT)] == [6, 7]
    assert rank(same, DEFAULT)[0].score == rank(list(reversed(same)), DEFAULT)[0].score  # exact, not floats


def test_teams_are_scored_per_member_so_a_small_team_can_win() -> None:
    """Small: 2 members, 4 orders (2 each), 2 activities (1 each). Big: 10 members, 10 orders and
    10 activities (1 each). Per member Small leads orders (1 vs 1/2) and they tie on activities."""
    small = team_figures(100, 2, [person(1, orders=3, activities=1, satisfied=2, rated=2, response=(30,)),
                                  person(2, orders=1, activities=1, satisfied=1, rated=1, response=(30,))])
    big = team_figures(200, 10, [person(10 + i, orders=1, activities=1, satisfied=1, rated=1, response=(30,))
                                 for i in range(10)])
    assert (small.orders, small.activities, small.satisfied, small.rated, small.members) == (4, 2, 3, 3, 2)
    ranked = rank([big, small], DEFAULT)
    assert [r.figures.key for r in ranked] == [100, 200]
    assert ranked[0].parts["orders"] == 1 and ranked[1].parts["orders"] == Fraction(1, 2)
    assert ranked[0].parts["activities"] == ranked[1].parts["activities"] == 1
    assert ranked[1].parts["satisfaction"] == Fraction(11, 12)  # 10 of 10, smoothed
    assert ranked[0].parts["response"] == ranked[1].parts["response"] == Fraction(2, 3)  # 60 / (60 + 30)


def test_weights_come_from_the_recognition_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("VLOOP_"):
            monkeypatch.delenv(name)
    path = tmp_path / "config.toml"
    path.write_text("[recognition]\norders = 1\nactivities = 0\nsatisfaction = 0\nresponse = 0\n"
                    "response_reference_minutes = 30\nafter_report_minutes = 90\n", encoding="utf-8")
    config = recognition_config(load_settings(path))
    assert config.weights == Weights(orders=1, activities=0, satisfaction=0, response=0, response_reference_minutes=30)
    assert config.after_report_minutes == 90
    winner = best([ANNA, BO], config.weights)
    assert winner is not None and winner.figures.key == 1 and winner.score == 1
    path.write_text("[recognition]\norders = 0\nactivities = 0\nsatisfaction = 0\nresponse = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="recognition"):
        load_settings(path)
