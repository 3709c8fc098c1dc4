"""The report's grouped passes (one query per kind of count for all teams, all communities or all
months) give exactly what one ``measure`` per group gives, on the known month (sqlite, and
postgresql with TEST_DATABASE_URL): every rate, numerator and denominator, and both medians, for
every team (one with nothing at all among them), every community and every month of the year to
date, for each kind of place; and the place's own figures stay its ``measure``'s."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.measures import Period, Scope
from bot.services import measures
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.known_month import CONFIG, EAST, JANUARY, WEST, known_month

DECEMBER = Period.month(2025, 12)
FEBRUARY = Period.month(2026, 2)
YEAR_TO_DATE = Period(dt.date(2026, 1, 1), dt.date(2026, 2, 15))  # not a whole month: its own pass


async def expected(uow_factory: UowFactory, scope: Scope, period: Period) -> measures.Measures:
    async with uow_factory() as uow:
        return await measures.measure(uow, CONFIG.measures, await measures.place(uow, scope), period,
                                      CONFIG.timezone)


@pytest.mark.parametrize("period", [DECEMBER, JANUARY, FEBRUARY, YEAR_TO_DATE])
@pytest.mark.parametrize("scope", [Scope(), Scope("community", EAST), Scope("community", WEST),
                                   Scope("building", "B1"), Scope("team", "repair"), Scope("team", "care")])
async def test_grouped_figures_are_each_groups_own(uow_factory: UowFactory, clock: FakeClock, scope: Scope,
                                                   period: Period) -> None:
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        await uow.teams.add("idle", "Idle", ["repair"])  # no members, orders or ratings: all "—"
        await uow.commit()
    async with uow_factory() as uow:
        data = await measures.report_data(uow, CONFIG.measures, scope, period, CONFIG.timezone)

    assert data.measures == await expected(uow_factory, scope, period)
    months = measures.months_to(period)
    assert [month for month, _ in data.by_month] == months and len(months) in (1, 2, 12)
    for month, figures in data.by_month:
        assert figures == await expected(uow_factory, scope, month), month
    if scope.kind == "district":
        assert sorted(code for code, _ in data.by_team) == ["care", "idle", "repair"]
        assert [name for name, _ in data.by_community] == sorted([EAST, WEST])
    for code, figures in data.by_team:
        assert figures == await expected(uow_factory, Scope("team", code), period), code
    for name, figures in data.by_community:
        assert figures == await expected(uow_factory, Scope("community", name), period), name
    assert len(data.by_team) == {"district": 3, "team": 1}.get(scope.kind, 0)
    assert len(data.by_community) == {"district": 2, "community": 1}.get(scope.kind, 0)


async def test_the_known_month_is_not_all_zeros(uow_factory: UowFactory, clock: FakeClock) -> None:
    """The comparison above compares figures that are there: both teams' and communities' January
    has orders, ratings, service and both medians (the reopened orders are no longer their teams')."""
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        data = await measures.report_data(uow, CONFIG.measures, Scope(), JANUARY, CONFIG.timezone)
    teams = dict(data.by_team)
    assert teams["repair"].response.denominator == 3 and teams["repair"].median_accept_minutes == 25
    assert teams["care"].median_accept_minutes == 10 and teams["care"].satisfaction.denominator == 1
    communities = dict(data.by_community)
    assert communities[EAST].awareness.denominator == 100 and communities[WEST].volunteers_served.denominator == 3
    assert communities[WEST].median_accept_minutes == 7.5  # an even count: the mean of the middle two
    assert data.by_month[0][1].satisfaction.denominator == 4


@pytest.mark.parametrize("period", [JANUARY, YEAR_TO_DATE])
@pytest.mark.parametrize("scope", [Scope(), Scope("community", EAST), Scope("building", "B1"), Scope("team", "repair")])
async def test_reports_text_figures_are_the_places_own(uow_factory: UowFactory, clock: FakeClock, scope: Scope,
                                                        period: Period) -> None:
    """``/report``'s text (``measure_quickly``): a whole month of a district, community or team from
    the summaries, anything else counted from the raw rows; the figures are ``measure``'s either way."""
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        where = await measures.place(uow, scope)
        from_summaries = await measures.summaries_serve(uow, where, [period], CONFIG.timezone)
        figures = await measures.measure_quickly(uow, CONFIG.measures, where, period, CONFIG.timezone)
    assert from_summaries == (scope.kind != "building")  # the summaries serve every whole month but a building's
    assert figures == await expected(uow_factory, scope, period)
