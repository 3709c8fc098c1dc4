"""The rates of a known month (sqlite, and postgresql with TEST_DATABASE_URL), built through the
services (dispatch, accept, done, rate, cancel, reject, "no response"), with households set by a
coordinator, a building link, a building leader's request for a neighbour, an activity's and an
honour entry in the ledger. Every rate's numerator and denominator is checked for the district, a
community, a building and a team: "not solved" counts as not satisfied, unrated orders stand
beside the ratings, a team with no households divides by nothing."""

from __future__ import annotations

import pytest

from bot.domain import satisfaction
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.measures import Measures, Period, Rate, Scope
from bot.services import measures, report
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.known_month import COCO, CONFIG, EAST, JANUARY, VERA, WEST, act, known_month


async def measured(uow_factory: UowFactory, scope: Scope) -> Measures:
    async with uow_factory() as uow:
        found = await measures.place(uow, scope)
        return await measures.measure(uow, CONFIG.measures, found, JANUARY, CONFIG.timezone)


def figures(m: Measures) -> dict[str, tuple[int, int]]:
    return {name: (rate.numerator, rate.denominator) for name, rate in m.rates().items()}


async def test_the_known_months_rates_in_every_scope(uow_factory: UowFactory, clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    district = await measured(uow_factory, Scope())
    # households: A1 100 (东湖's only building) + 西湖's own 80 (wins over B1's 50); reached: the four
    # addresses asked for (December's included) and Bea, who came by B1's link.
    assert figures(district) == {
        "awareness": (6, 180), "volunteers_served": (4, 6), "residents_ordered": (4, 6),
        "satisfaction": (2, 4), "unrated": (1, 5), "response": (4, 6), "resolution": (3, 6)}
    assert (district.median_accept_minutes, district.median_done_minutes) == (20, 50)

    east = await measured(uow_factory, Scope("community", "东湖社区"))
    assert figures(east) == {
        "awareness": (2, 100), "volunteers_served": (2, 3), "residents_ordered": (2, 2),
        "satisfaction": (2, 3), "unrated": (0, 3), "response": (2, 4), "resolution": (2, 4)}
    assert (east.median_accept_minutes, east.median_done_minutes) == (30, 60)

    west = await measured(uow_factory, Scope("community", "西湖社区"))
    assert figures(west)["awareness"] == (4, 80)

    b1 = await measured(uow_factory, Scope("building", "B1"))
    assert figures(b1) == {
        "awareness": (4, 50), "volunteers_served": (2, 3), "residents_ordered": (2, 4),
        "satisfaction": (0, 1), "unrated": (1, 2), "response": (2, 2), "resolution": (1, 2)}
    assert (b1.median_accept_minutes, b1.median_done_minutes) == (7.5, 30)

    repair = await measured(uow_factory, Scope("team", "repair"))
    # Ron's "not solved" stays the repair team's though the reopening took the order from it.
    assert figures(repair) == {
        "awareness": (0, 0), "volunteers_served": (2, 3), "residents_ordered": (0, 0),
        "satisfaction": (2, 3), "unrated": (0, 3), "response": (2, 3), "resolution": (2, 3)}
    assert repair.awareness.value is None


async def test_a_month_with_nothing_divides_by_nothing(uow_factory: UowFactory, clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        found = await measures.place(uow, Scope())
        empty = await measures.measure(uow, CONFIG.measures, found, Period.month(2026, 3), CONFIG.timezone)
    assert empty.satisfaction == Rate(0, 0) and empty.satisfaction.value is None
    assert empty.response == Rate(0, 0) and empty.median_accept_minutes is None
    assert empty.awareness == Rate(6, 180)  # households reached stay reached


async def test_the_report_data_by_month_team_and_community(uow_factory: UowFactory, clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        data = await measures.report_data(uow, CONFIG.measures, Scope(), Period.month(2026, 2), CONFIG.timezone)
        rows = [row async for page in measures.orders_behind(uow, await measures.report_data(
            uow, CONFIG.measures, Scope(), JANUARY, CONFIG.timezone), CONFIG.timezone) for row in page]
    assert [p for p, _ in data.by_month] == [JANUARY, Period.month(2026, 2)]
    assert figures(data.by_month[0][1]) == figures(await measured(uow_factory, Scope()))
    assert sorted(code for code, _ in data.by_team) == ["care", "repair"]
    assert [name for name, _ in data.by_community] == sorted([EAST, WEST])
    assert len(rows) == 8 and [r.stars for r in rows][:2] == [satisfaction.SATISFIED, None]  # "not solved": no stars


async def test_unknown_places_and_bad_households(uow_factory: UowFactory, clock: FakeClock) -> None:
    await known_month(uow_factory, clock)
    for scope in (Scope("team", "nope"), Scope("community", "月亮社区"), Scope("building", "Z9")):
        with pytest.raises(NotFound):
            await measured(uow_factory, scope)
    with pytest.raises(InvalidInput):
        await act(uow_factory, COCO, report.households, "A1", "many")
    with pytest.raises(NotFound):
        await act(uow_factory, COCO, report.households, "月亮社区", "10")
    with pytest.raises(NotAllowed):
        await act(uow_factory, VERA, report.households, "A1", "10")
    async with uow_factory() as uow:  # each change is in the audit trail
        (a1,) = [b for b in await uow.buildings.every() if b.code == "A1"]
        assert [e.detail for e in await uow.audit.of_subject("building", a1.id)] == [{"households": 100}]
