"""The rates of a known month (sqlite, and postgresql with TEST_DATABASE_URL), built through the
services (dispatch, accept, done, rate, cancel, reject, "no response"), with households set by a
coordinator, a building link, a building leader's request for a neighbour, an activity's and an
honour entry in the ledger. Every rate's numerator and denominator is checked for the district, a
community, a building and a team: "not solved" counts as not satisfied, unrated orders stand
beside the ratings, a team with no households divides by nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.domain import satisfaction
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.lifecycle import Move
from bot.domain.measures import Measures, Period, Rate, Scope
from bot.i18n import I18n
from bot.services import claim, dispatch, measures, orders, rating, report, request
from bot.services.context import MeasureConfig, ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import Volunteer
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100,
                       measures=MeasureConfig(response_minutes=60))
COCO, VERA, VICTOR, HANA, CARA, CLEO, PIA = 9001, 9002, 9003, 9004, 9005, 9006, 9007
RITA, RON, ROSE, LEO, BEA, OLD = 9101, 9102, 9103, 9104, 9105, 9106
REPAIR_CHAT, CARE_CHAT = -901, -902
JANUARY = Period.month(2026, 1)
EAST, WEST = "东湖社区", "西湖社区"


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        user.is_coordinator = telegram_id == COCO
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def place(uow_factory: UowFactory, resident: int, community: str, building: str, flat: str, *,
                on_behalf: bool = False) -> int:
    async with uow_factory() as uow:
        person = await uow.users.ensure(resident, f"user{resident}", "en")
        found = await uow.buildings.by_code(building)
        assert found is not None
        order = await uow.orders.add(resident_id=person.id, status="new", category="repair", description="x",
                                     community=community, building=building, address_detail=flat, when_text="today",
                                     contact_name="n", contact_phone="+8613800000001", building_id=found.id,
                                     on_behalf=on_behalf)
        await uow.commit()
        return order.id


async def serve(uow_factory: UowFactory, clock: FakeClock, number: int, team: str, who: int, chat: int,
                to_accept: int, to_done: int) -> None:
    await act(uow_factory, COCO, dispatch.dispatch, number, team)
    clock.advance(to_accept * 60)
    await act(uow_factory, who, claim.accept, number, chat)
    clock.advance(to_done * 60)
    await act(uow_factory, who, claim.done, number)


async def no_response(ctx: Any, number: int) -> None:
    assert await orders.move(ctx, number, Move.NO_RESPONSE, no_response=True) is not None
    await ctx.uow.commit()


async def known_month(uow_factory: UowFactory, clock: FakeClock) -> None:
    """Two communities, two buildings, two teams; December's one order and January's eight."""
    clock.now = dt.datetime(2025, 12, 20, 2, 0, tzinfo=dt.UTC)
    async with uow_factory() as uow:
        a1 = await uow.buildings.add("A1", EAST, "1号楼")
        b1 = await uow.buildings.add("B1", WEST, "2号楼")
        repair = await uow.teams.add("repair", "Repair", ["repair"])
        care = await uow.teams.add("care", "Care", ["repair"])
        await uow.teams.bind_chat(repair.id, REPAIR_CHAT)
        await uow.teams.bind_chat(care.id, CARE_CHAT)
        for telegram_id, team, community, status in ((VERA, repair, EAST, "approved"), (VICTOR, repair, EAST, "approved"),
                                                     (HANA, repair, EAST, "approved"), (CARA, care, WEST, "approved"),
                                                     (CLEO, care, WEST, "approved"), (PIA, care, WEST, "pending")):
            member = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
            uow.session.add(Volunteer(user_id=member.id, team_id=team.id, name="v", phone="+8613800000000",
                                      status=status, community=community, created_at=uow.now()))
        uow.session.add(Volunteer(user_id=None, team_id=care.id, name="Rolf", phone="+8613800000009",
                                  status="approved", community=WEST, source="roster", created_at=uow.now()))
        leo = await uow.users.ensure(LEO, "Leo", "en")
        b1.leader_id = leo.id
        await uow.commit()
        a1_id = a1.id
    await place(uow_factory, OLD, WEST, "B1", "103")  # December: reached, not January's
    for target, number in (("A1", "100"), ("B1", "50"), (WEST, "80")):
        await act(uow_factory, COCO, report.households, target, number)

    clock.now = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    async with uow_factory() as uow:  # came by B1's link, has asked for nothing yet
        bea = await uow.users.ensure(BEA, "Bea", "en")
        bea.building_id = (await uow.buildings.by_code("B1")).id  # type: ignore[union-attr]
        await uow.commit()
    o1 = await place(uow_factory, RITA, EAST, "A1", "501")
    await serve(uow_factory, clock, o1, "repair", VERA, REPAIR_CHAT, 30, 40)
    await act(uow_factory, RITA, rating.rate, o1, satisfaction.SATISFIED)
    o2 = await place(uow_factory, RON, EAST, "A1", "502")
    await serve(uow_factory, clock, o2, "repair", VICTOR, REPAIR_CHAT, 90, 60)
    await act(uow_factory, RON, rating.rate, o2, satisfaction.NOT_SOLVED)  # reopened, not satisfied
    o3 = await place(uow_factory, ROSE, WEST, "B1", "101")
    await serve(uow_factory, clock, o3, "care", CARA, CARE_CHAT, 10, 20)
    clock.advance(3600)
    await act(uow_factory, COCO, no_response, o3)
    o4 = await place(uow_factory, RITA, EAST, "A1", "501")
    await serve(uow_factory, clock, o4, "repair", VERA, REPAIR_CHAT, 20, 30)
    await act(uow_factory, RITA, rating.rate, o4, satisfaction.MOSTLY)
    o5 = await place(uow_factory, RON, EAST, "A1", "502")
    await act(uow_factory, RON, request.cancel, o5)  # withdrawn before anyone took it: not counted
    o6 = await place(uow_factory, ROSE, WEST, "B1", "101")
    await act(uow_factory, COCO, dispatch.reject, o6, "duplicate")  # refused by the centre: not counted
    o7 = await place(uow_factory, RITA, EAST, "A1", "501")
    await act(uow_factory, COCO, dispatch.dispatch, o7, "repair")  # still waiting at the month's end
    o8 = await place(uow_factory, LEO, WEST, "B1", "102", on_behalf=True)
    await serve(uow_factory, clock, o8, "care", CARA, CARE_CHAT, 5, 5)
    await act(uow_factory, LEO, rating.rate, o8, satisfaction.NOT_SATISFIED)  # reopened
    async with uow_factory() as uow:
        cleo = await uow.users.by_telegram_id(CLEO)
        hana = await uow.users.by_telegram_id(HANA)
        care_team = await uow.teams.by_code("care")
        assert cleo is not None and hana is not None and care_team is not None
        await uow.ledger.add(cleo.id, "activity", 90, clock.now, team_id=care_team.id)  # an attended activity
        await uow.ledger.add(hana.id, "honour", 120, clock.now, reason="thanks")  # recognition, not service
        await uow.commit()
    assert a1_id


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
