"""A known month for the measures (docs/measures.md), built through the services: dispatch,
accept, done, rate, cancel, reject and "no response", households set by a coordinator, a building
link, a building leader's request for a neighbour, an activity's and an honour entry in the
ledger. The service tests check every rate of it; the CLI and end-to-end tests compare the
report's files against each other on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain import satisfaction
from bot.domain.lifecycle import Move
from bot.domain.measures import Period
from bot.i18n import I18n
from bot.services import buildings, claim, dispatch, orders, rating, report, request
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
        await uow.buildings.add("A1", EAST, "1号楼")
        b1 = await uow.buildings.add("B1", WEST, "2号楼")
        repair = await uow.teams.add("repair", "Repair", ["repair"])
        care = await uow.teams.add("care", "Care", ["repair"])
        await uow.teams.bind_chat(repair.id, REPAIR_CHAT)
        await uow.teams.bind_chat(care.id, CARE_CHAT)
        people = ((VERA, repair, EAST, "approved"), (VICTOR, repair, EAST, "approved"),
                  (HANA, repair, EAST, "approved"),
                  (CARA, care, WEST, "approved"), (CLEO, care, WEST, "approved"), (PIA, care, WEST, "pending"))
        for telegram_id, team, community, status in people:
            member = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
            uow.session.add(Volunteer(user_id=member.id, team_id=team.id, name="v", phone="+8613800000000",
                                      status=status, community=community, created_at=uow.now()))
        uow.session.add(Volunteer(user_id=None, team_id=care.id, name="Rolf", phone="+8613800000009",
                                  status="approved", community=WEST, source="roster", created_at=uow.now()))
        leo = await uow.users.ensure(LEO, "Leo", "en")
        b1.leader_id = leo.id
        await uow.commit()
    await place(uow_factory, OLD, WEST, "B1", "103")  # December: reached, not January's
    for target, number in (("A1", "100"), ("B1", "50"), (WEST, "80")):
        await act(uow_factory, COCO, report.households, target, number)

    clock.now = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    await act(uow_factory, BEA, buildings.arrived_through, "B1")  # came by B1's link, has asked for nothing yet
    await act(uow_factory, RON, buildings.arrived_through, "A1")  # the same, but his request's address replaces it
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
