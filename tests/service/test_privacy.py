"""/mydata and /forget as the services do them (sqlite, and postgresql with TEST_DATABASE_URL): the
file holds the person's own rows and nobody else's; a forget cancels the person's open requests
through the one mover (the volunteer told), closes the one awaiting their rating, gives back what
they serve and their activity places, then leaves none of their identifiers in any column of any
table — sent and pending outbox rows included — while every rate of a known month stays the same;
only the person the question was sent to can answer it; afterwards they come back as a new person."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.domain import satisfaction
from bot.domain.attachments import MyData
from bot.domain.errors import Conflict
from bot.domain.measures import Measures, Scope
from bot.i18n import I18n
from bot.services import claim, dispatch, measures, privacy, rating
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from storage.models import ActivitySignup, Building, Order, OutboxMessage, PointCode, User, Volunteer
from storage.privacy import is_forgotten_chat
from storage.repositories import FORGET_OFFER
from tests.support import known_month as km
from tests.support.activities import add_activity, sign_up
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.privacy_scan import stored_mentions

I18N = I18n()
CONFIG = ServiceConfig(categories=("repair",), coordinators_chat_id=-100, admins=frozenset({8309}))
COCO, VERA, RITA, ROSA, ADA = 8301, 8302, 8303, 8304, 8309
REPAIR_CHAT = -931
NAMES = {COCO: "Cocoqvb", VERA: "Veraqmk", RITA: "Ritaqzx", ROSA: "Rosaqpl", ADA: "Adaqwe"}
RITA_NEEDLES = ["Ritaqzx", "13912345678", "QZ8802", "Rita Leeqzx"]
VERA_NEEDLES = ["Veraqmk", "13700001111", "Vera Wongqmk"]
ROSA_NEEDLES = ["Rosaqpl", "13655554444", "RS3301"]


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any, **kwargs: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, NAMES[telegram_id], "en")
        if telegram_id == COCO:
            user.is_coordinator = True
        return await service(privacy_ctx(uow, user), *args, **kwargs)


def privacy_ctx(uow: Any, user: User) -> Any:
    return service_context(uow, user, i18n=I18N, config=CONFIG)


async def place(uow_factory: UowFactory, telegram_id: int, name: str, phone: str, flat: str) -> int:
    async with uow_factory() as uow:
        person = await uow.users.ensure(telegram_id, NAMES[telegram_id], "en")
        person.home_name, person.home_phone, person.home_detail = name, phone, flat
        person.home_community, person.home_building = "东湖社区", "A1"
        order = await uow.orders.add(resident_id=person.id, status="new", category="repair",
                                     description=f"leaking tap, call {phone}", community="东湖社区", building="A1",
                                     address_detail=flat, when_text="today", contact_name=name, contact_phone=phone,
                                     voice_file_id="voice-file-1")
        await uow.commit()
        return order.id


async def serve(uow_factory: UowFactory, number: int, *, finish: bool) -> None:
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, REPAIR_CHAT)
    if finish:
        await act(uow_factory, VERA, claim.done, number)


async def world(uow_factory: UowFactory, clock: FakeClock) -> dict[str, int]:
    """Rita (a resident) with a request rated and commented, one being served by Vera and one done
    but not rated; Vera (a team leader) serving Rosa's request too, with an activity place and a
    points code; Rosa, whose data must stay."""
    clock.now = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, REPAIR_CHAT)
        vera = await uow.users.ensure(VERA, NAMES[VERA], "en")
        uow.session.add(Volunteer(user_id=vera.id, team_id=team.id, name="Vera Wongqmk", phone="+8613700001111",
                                  status="approved", community="东湖社区", skills=["repair"], is_leader=True,
                                  registry_number="VR-2026-77", created_at=uow.now()))
        activity = await add_activity(uow, team.id, starts_at=uow.now() + dt.timedelta(days=3))
        await sign_up(uow, activity, vera.id)
        await uow.points.issue(vera.id, "PQ4411", uow.now() + dt.timedelta(minutes=10))
        await uow.commit()
    closed = await place(uow_factory, RITA, "Rita Leeqzx", "+8613912345678", "QZ8802室")
    await serve(uow_factory, closed, finish=True)
    await act(uow_factory, RITA, rating.rate, closed, satisfaction.SATISFIED)
    await act(uow_factory, RITA, rating.comment, closed, 1, "Thanks, Rita Leeqzx +8613912345678", volunteer_id=None)
    served = await place(uow_factory, RITA, "Rita Leeqzx", "+8613912345678", "QZ8802室")
    await serve(uow_factory, served, finish=False)
    unrated = await place(uow_factory, RITA, "Rita Leeqzx", "+8613912345678", "QZ8802室")
    await serve(uow_factory, unrated, finish=True)
    rosas = await place(uow_factory, ROSA, "Rosa Maqpl", "+8613655554444", "RS3301室")
    await serve(uow_factory, rosas, finish=False)
    return {"closed": closed, "served": served, "unrated": unrated, "rosas": rosas, "activity": activity.id}


async def forget(uow_factory: UowFactory, telegram_id: int) -> None:
    """/forget, then ✅ on the question it sent."""
    await act(uow_factory, telegram_id, privacy.ask_to_forget)
    await act(uow_factory, telegram_id, privacy.answer, await question_of(uow_factory, telegram_id), True)


async def question_of(uow_factory: UowFactory, telegram_id: int) -> int:
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                          .order_by(OutboxMessage.id.desc()))).all()
        return next(row.id for row in rows if row.payload.get(FORGET_OFFER))


async def mark_everything_sent(uow_factory: UowFactory) -> None:
    """As the sender would have: every queued row delivered (its payload kept, as today)."""
    async with uow_factory() as uow:
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                                  .values(status="sent", message_id=1))
        await uow.commit()


async def leaks(uow_factory: UowFactory, needles: list[str]) -> list[tuple[str, str, str]]:
    async with uow_factory() as uow:
        return await stored_mentions(await uow.session.connection(), needles)


async def test_mydata_sends_the_persons_own_rows_to_their_own_chat(uow_factory: UowFactory,
                                                                   clock: FakeClock) -> None:
    numbers = await world(uow_factory, clock)
    await act(uow_factory, RITA, privacy.show)
    async with uow_factory() as uow:
        rita = await uow.users.by_telegram_id(RITA)
        assert rita is not None
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_user_id == rita.id)
                                          .order_by(OutboxMessage.id.desc()).limit(2))).all()
        document, summary = rows
        assert {document.chat_id, summary.chat_id} == {RITA}
        assert document.payload["attachment"] == {"kind": "mydata", "user": rita.id, "language": "en",
                                                  "field": "document"}  # an id, never the data
        assert "Requests you placed: 3" in summary.payload["text"] and "QZ8802室" in summary.payload["text"]
        held = json.loads(await privacy.file_json(uow, MyData(rita.id, "en"), I18N))
    assert held["profile"]["home_phone"] == "+8613912345678"
    assert [order["id"] for order in held["orders_placed"]] == [numbers["closed"], numbers["served"],
                                                                numbers["unrated"]]
    assert held["ratings_given"][0]["comment"].startswith("Thanks")
    assert "Rosa" not in json.dumps(held, ensure_ascii=False) and "RS3301" not in json.dumps(held)
    async with uow_factory() as uow:
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        served = json.loads(await privacy.file_json(uow, MyData(vera.id, "zh"), I18N))
    assert {order["id"] for order in served["orders_served"]} == {numbers[key] for key in ("closed", "served",
                                                                                            "unrated", "rosas")}
    assert all("contact_phone" not in order for order in served["orders_served"])  # the residents' data
    assert served["memberships"][0]["registry_number"] == "VR-2026-77" and served["point_codes"]
    assert served["about"].startswith("截至")


async def test_forget_leaves_no_identifier_anywhere_and_settles_the_open_requests(uow_factory: UowFactory,
                                                                                  clock: FakeClock) -> None:
    numbers = await world(uow_factory, clock)
    await act(uow_factory, RITA, privacy.show)
    assert await leaks(uow_factory, RITA_NEEDLES)  # the scan sees them before
    await mark_everything_sent(uow_factory)
    await forget(uow_factory, RITA)
    assert await leaks(uow_factory, RITA_NEEDLES) == []
    async with uow_factory() as uow:
        orders = {numbers[key]: await uow.orders.get(numbers[key]) for key in ("served", "unrated", "rosas")}
        assert orders[numbers["served"]].status == "cancelled"  # type: ignore[union-attr]
        assert orders[numbers["unrated"]].status == "closed"  # type: ignore[union-attr]
        assert orders[numbers["unrated"]].no_response  # type: ignore[union-attr]
        assert orders[numbers["rosas"]].contact_name == "Rosa Maqpl"  # type: ignore[union-attr]
        told = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == VERA,
                                                                        OutboxMessage.status == "pending"))).all()
        assert any(f"#{numbers['served']} was cancelled by the resident" in row.payload["text"] for row in told)
        to_rita = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == RITA))).all()
        pending = [row for row in to_rita if row.status == "pending"]
        assert [(row.payload["method"], row.payload.get("text")) for row in pending] == [
            ("sendMessage", "🗑 Done: your data is erased. If you write again, you start as a new person."),
            ("setMyCommands", None)]  # a new person's keyboard and menu, nothing else
        assert all(row.payload == {"forgotten": True} for row in to_rita if row.status != "pending")
        old = (await uow.session.scalars(select(User).where(User.first_name == "", User.unreachable))).all()
        assert len(old) == 1 and is_forgotten_chat(old[0].telegram_id) and not old[0].home_phone
        old_id = old[0].id
    assert await leaks(uow_factory, ROSA_NEEDLES)  # Rosa's data stays
    # Rita comes back: a new, empty person.
    await act(uow_factory, RITA, privacy.show)
    async with uow_factory() as uow:
        again = await uow.users.by_telegram_id(RITA)
        assert again is not None and again.id != old_id and again.home_phone is None
        held = json.loads(await privacy.file_json(uow, MyData(again.id, "en"), I18N))
    assert held["orders_placed"] == [] and held["ratings_given"] == []


async def test_a_team_leader_forgetting_gives_back_what_they_serve_and_their_roles(uow_factory: UowFactory,
                                                                                   clock: FakeClock) -> None:
    numbers = await world(uow_factory, clock)
    async with uow_factory() as uow:
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        building = await uow.buildings.add("A1", "东湖社区", "1号楼")
        building.leader_id, vera_id = vera.id, vera.id
        await uow.commit()
    await forget(uow_factory, VERA)  # rows to her still pending: cancelled, not sent
    assert await leaks(uow_factory, VERA_NEEDLES) == []
    async with uow_factory() as uow:
        rosas = await uow.orders.get(numbers["rosas"])
        assert rosas is not None and rosas.status == "dispatched" and rosas.volunteer_id is None
        membership = (await uow.session.scalars(select(Volunteer).where(Volunteer.user_id == vera_id))).one()
        assert (membership.status, membership.is_leader, membership.name, membership.phone) == ("approved", False,
                                                                                                 "", "")
        assert membership.registry_number == "VR-2026-77"  # kept for the registry (docs/privacy.md)
        assert (await uow.session.get(Building, building.id)).leader_id is None  # type: ignore[union-attr]
        signup = (await uow.session.scalars(select(ActivitySignup).where(ActivitySignup.user_id == vera_id))).one()
        assert signup.status == "cancelled"
        code = (await uow.session.scalars(select(PointCode).where(PointCode.user_id == vera_id))).one()
        assert (code.code, code.status) == ("", "void")
        pending = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == VERA, OutboxMessage.status == "pending"))).all()
        assert [row.payload.get("method") for row in pending] == ["sendMessage", "setMyCommands"]
        back = await uow.users.ensure(VERA, NAMES[VERA], "en")
        await uow.flush()
        assert (await uow.volunteers.of_user(back.id)) == []  # no longer a member, a new person


async def test_a_coordinator_forgetting_is_no_longer_one_and_an_admin_stays_by_configuration(
        uow_factory: UowFactory, clock: FakeClock) -> None:
    await world(uow_factory, clock)
    await forget(uow_factory, COCO)
    await forget(uow_factory, ADA)
    async with uow_factory() as uow:
        coco = await uow.users.ensure(COCO, NAMES[COCO], "en")
        ada = await uow.users.ensure(ADA, NAMES[ADA], "en")
        await uow.flush()
        assert not coco.is_coordinator
        assert not privacy_ctx(uow, coco).is_coordinator and privacy_ctx(uow, ada).is_admin  # from the config
    assert await leaks(uow_factory, ["Cocoqvb", "Adaqwe"]) == []


async def test_only_the_person_asked_can_answer_and_no_keeps_everything(uow_factory: UowFactory,
                                                                       clock: FakeClock) -> None:
    numbers = await world(uow_factory, clock)
    await act(uow_factory, RITA, privacy.ask_to_forget)
    question = await question_of(uow_factory, RITA)
    async with uow_factory() as uow:
        text = (await uow.outbox.get(question)).payload["text"]  # type: ignore[union-attr]
    assert "Open requests to be cancelled: 1." in text
    for forger, row in ((ROSA, question), (VERA, question), (RITA, numbers["closed"]), (RITA, 2 ** 31 - 1)):
        with pytest.raises(Conflict):
            await act(uow_factory, forger, privacy.answer, row, True)
    await act(uow_factory, RITA, privacy.answer, question, False)
    assert await leaks(uow_factory, ["Rita Leeqzx", "13912345678"])
    async with uow_factory() as uow:
        served = await uow.orders.get(numbers["served"])
        assert served is not None and served.status == "accepted"


MONTH_PEOPLE = (km.ROSE, km.VERA, km.CARA, km.HANA, km.CLEO, km.BEA)


async def every_scope(uow_factory: UowFactory) -> dict[str, Measures]:
    results = {}
    async with uow_factory() as uow:
        for scope in (Scope("district"), Scope("community", km.EAST), Scope("community", km.WEST),
                      Scope("building", "A1"), Scope("building", "B1"), Scope("team", "repair"),
                      Scope("team", "care")):
            found = await measures.place(uow, scope)
            results[f"{scope.kind}:{scope.key}"] = await measures.measure(uow, km.CONFIG.measures, found, km.JANUARY,
                                                                          km.CONFIG.timezone)
    return results


async def test_the_known_months_rates_stay_the_same_after_people_forget(uow_factory: UowFactory,
                                                                          clock: FakeClock) -> None:
    await km.known_month(uow_factory, clock)
    before = await every_scope(uow_factory)
    clock.now = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)
    for person in MONTH_PEOPLE:
        async with uow_factory() as uow:
            user = await uow.users.ensure(person, f"user{person}", "en")
            ctx = privacy_ctx(uow, user)
            await privacy.ask_to_forget(ctx)
        await act_known(uow_factory, person)
    assert await every_scope(uow_factory) == before
    async with uow_factory() as uow:
        rose = (await uow.session.scalars(select(Order).where(Order.address_detail == "101"))).all()
    assert rose == []  # Rose's flat is gone from her orders


async def act_known(uow_factory: UowFactory, person: int) -> None:
    question = await question_of(uow_factory, person)
    async with uow_factory() as uow:
        user = await uow.users.ensure(person, f"user{person}", "en")
        await privacy.answer(privacy_ctx(uow, user), question, True)
