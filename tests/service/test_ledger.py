"""The hours ledger as the services keep it (sqlite, and postgresql with TEST_DATABASE_URL): Done
writes the round's entry from accept → done, capped for the category; the volunteer's typed
figure lands beside it once; a reopened order keeps round 1's entry and round 2 gets its own;
honour hours need a coordinator and a reason and stay apart from the hours served; a correction
is a new entry and no entry is ever rewritten; "my hours" by source; a team leader's view."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import satisfaction
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import claim, dialogs, dispatch, hours, rating
from bot.services.context import HoursConfig, ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import HoursEntry, OutboxMessage, Volunteer
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100,
                       hours=HoursConfig(default_cap_hours=4.0, caps=(("repair", 1.5),)))
RITA, VERA, VICTOR, COCO = 8101, 8102, 8103, 8104
TEAM_CHAT = -800


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        user.is_coordinator = telegram_id == COCO
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def last_text(uow_factory: UowFactory, telegram_id: int) -> str:
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        return str(row.payload.get("text") or row.payload.get("caption"))


async def last_markup(uow_factory: UowFactory, telegram_id: int) -> object:
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        return row.payload.get("reply_markup")


async def entries(uow_factory: UowFactory) -> list[tuple[Any, ...]]:
    """Every ledger row, every column, in id order."""
    async with uow_factory() as uow:
        rows = await uow.session.execute(select(HoursEntry.__table__).order_by(HoursEntry.id))
        return [tuple(row) for row in rows.all()]


async def world(uow_factory: UowFactory, category: str = "repair") -> int:
    """Team repair (Vera, its leader, and Victor approved; registry numbers R-1, R-2), Rita's
    request dispatched to it. Returns its number."""
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        team = await uow.teams.add("repair", "Repair", ["repair", "delivery"])
        await uow.teams.bind_chat(team.id, TEAM_CHAT)
        for telegram_id, name, number in ((VERA, "Vera", "R-1"), (VICTOR, "Victor", "R-2")):
            member = await uow.users.ensure(telegram_id, name, "en")
            uow.session.add(Volunteer(user_id=member.id, team_id=team.id, name=name, phone="+8613800000000",
                                      status="approved", registry_number=number, is_leader=telegram_id == VERA,
                                      created_at=uow.now()))
        order = await uow.orders.add(resident_id=rita.id, status="new", category=category, description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001")
        await uow.commit()
        number = order.id
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    return number


async def serve(uow_factory: UowFactory, clock: FakeClock, who: int, number: int, minutes: float) -> None:
    await act(uow_factory, who, claim.accept, number, TEAM_CHAT)
    clock.advance(minutes * 60)
    await act(uow_factory, who, claim.done, number)


async def test_done_writes_the_rounds_entry_from_accept_to_done(uow_factory: UowFactory, clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    accepted_at = clock.now
    await serve(uow_factory, clock, VERA, number, 50.5)
    assert len(await entries(uow_factory)) == 1
    async with uow_factory() as uow:
        (row,) = await uow.ledger.of_order(number)
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        assert (row.user_id, row.source, row.minutes, row.round, row.claimed_minutes) == (vera.id, "order", 50, 1, None)
        assert (row.served_at, row.ended_at) == (accepted_at, clock.now)
        assert row.team_id is not None


async def test_an_orders_hours_are_capped_by_its_category(uow_factory: UowFactory, clock: FakeClock) -> None:
    number = await world(uow_factory, "repair")  # capped at 1.5 h
    await serve(uow_factory, clock, VERA, number, 180)
    async with uow_factory() as uow:
        (row,) = await uow.ledger.of_order(number)
        assert row.minutes == 90


async def test_the_typed_figure_lands_beside_the_entry_once(uow_factory: UowFactory, clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    await serve(uow_factory, clock, VERA, number, 40)
    before = await entries(uow_factory)
    await act(uow_factory, VERA, claim.record_hours, number, "1,5")
    assert await last_text(uow_factory, VERA) == f"Recorded 1.5 h for request #{number}. Thank you!"
    await act(uow_factory, VERA, claim.record_hours, number, "3")
    assert await last_text(uow_factory, VERA) == f"Your hours for request #{number} are already recorded. Thank you!"
    with pytest.raises(NotAllowed):
        await act(uow_factory, VICTOR, claim.record_hours, number, "2")
    after = await entries(uow_factory)
    claimed = HoursEntry.__table__.columns.keys().index("claimed_minutes")
    assert [row[claimed] for row in after] == [90]
    assert [row[:claimed] + row[claimed + 1:] for row in after] == [row[:claimed] + row[claimed + 1:] for row in before]
    async with uow_factory() as uow:  # the audit log keeps the figure as history
        assert [e.detail for e in await uow.orders.events(number) if e.event == "hours"] == [{"hours": 1.5, "round": 1}]


async def test_a_reopened_order_keeps_round_ones_entry(uow_factory: UowFactory, clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    await serve(uow_factory, clock, VERA, number, 30)
    await act(uow_factory, RITA, rating.rate, number, satisfaction.NOT_SOLVED)  # reopened
    await act(uow_factory, VERA, claim.record_hours, number, "0.5")  # still hers to enter for round 1
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await serve(uow_factory, clock, VICTOR, number, 75)
    await act(uow_factory, VICTOR, claim.record_hours, number, "1")
    await act(uow_factory, RITA, rating.rate, number, satisfaction.SATISFIED)
    async with uow_factory() as uow:
        rows = await uow.ledger.of_order(number)
        people = {u.id: u.telegram_id for u in [await uow.users.by_telegram_id(t) for t in (VERA, VICTOR)] if u}
        assert [(people[r.user_id], r.round, r.minutes, r.claimed_minutes) for r in rows] == [
            (VERA, 1, 30, 30), (VICTOR, 2, 75, 60)]


async def test_honour_hours_need_a_coordinator_and_a_reason_and_stay_apart(uow_factory: UowFactory,
                                                                         clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    await serve(uow_factory, clock, VERA, number, 60)
    with pytest.raises(NotAllowed):
        await act(uow_factory, VICTOR, hours.honour, "R-1", "2", "flood relief")
    with pytest.raises(InvalidInput):
        await act(uow_factory, COCO, hours.honour, "R-1", "2", "  ")
    with pytest.raises(InvalidInput):
        await act(uow_factory, COCO, hours.honour, "R-1", "-2", "flood relief")
    with pytest.raises(NotFound):
        await act(uow_factory, COCO, hours.honour, "R-404", "2", "flood relief")
    await act(uow_factory, COCO, hours.honour, "R-1", "2.5", "flood relief")
    assert "flood relief" in await last_text(uow_factory, VERA)
    await act(uow_factory, VERA, hours.summary)
    text = await last_text(uow_factory, VERA)
    assert "This month: 1 h (requests 1 h, activities 0 h)" in text
    assert "In total: 1 h (requests 1 h" in text
    assert "Honour hours from the centre (counted apart): 2.5 h" in text
    async with uow_factory() as uow:
        honour = (await uow.session.scalars(select(HoursEntry).where(HoursEntry.source == "honour"))).one()
        assert (honour.minutes, honour.reason, honour.order_id) == (150, "flood relief", None)


async def test_a_correction_is_a_new_entry_and_nothing_is_rewritten(uow_factory: UowFactory,
                                                                    clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    await serve(uow_factory, clock, VERA, number, 60)
    before = await entries(uow_factory)
    entry_id = before[0][0]
    with pytest.raises(NotAllowed):
        await act(uow_factory, VERA, hours.correct, entry_id, "+1", "I stayed longer")
    with pytest.raises(InvalidInput):  # below zero
        await act(uow_factory, COCO, hours.correct, entry_id, "-1.5", "never went")
    with pytest.raises(NotFound):
        await act(uow_factory, COCO, hours.correct, entry_id + 99, "1", "typo")
    await act(uow_factory, COCO, hours.correct, entry_id, "-0.25", "left early")
    assert await last_text(uow_factory, COCO) == f"Entry #{entry_id} corrected by -0.25 h; it now counts 0.75 h."
    after = await entries(uow_factory)
    assert after[:1] == before and len(after) == 2
    await act(uow_factory, VERA, hours.summary)
    assert "This month: 0.75 h (requests 0.75 h, activities 0 h)" in await last_text(uow_factory, VERA)


async def test_my_hours_by_source_month_and_year_in_shanghai(uow_factory: UowFactory, clock: FakeClock) -> None:
    await world(uow_factory)
    async with uow_factory() as uow:
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        now = clock.now  # 15 January 2026, 09:30 UTC
        await uow.ledger.add(vera.id, "order", 60, now - dt.timedelta(days=3))
        await uow.ledger.add(vera.id, "activity", 120, dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC))  # 1 Jan
        await uow.ledger.add(vera.id, "activity", 45, dt.datetime(2025, 12, 31, 15, 30, tzinfo=dt.UTC))  # 2025
        await uow.commit()
    await act(uow_factory, VERA, hours.summary)
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == VERA)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        payload = dict(row.payload)
    text = str(payload["text"])
    assert "This month: 3 h (requests 1 h, activities 2 h)" in text
    assert "This year: 3 h (requests 1 h, activities 2 h)" in text
    assert "In total: 3.75 h (requests 1 h, activities 2.75 h)" in text
    assert "Honour" not in text
    assert [b["callback_data"] for b in payload["reply_markup"]["inline_keyboard"][0]] == [
        "hcert:month", "hcert:year", "hcert:lastyear"]
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, hours.summary)


async def test_a_team_leaders_view_per_member(uow_factory: UowFactory, clock: FakeClock) -> None:
    number = await world(uow_factory, "delivery")
    await serve(uow_factory, clock, VICTOR, number, 90)
    await act(uow_factory, COCO, hours.honour, "R-2", "1", "extra shift")
    await act(uow_factory, VERA, hours.team_view)
    text = await last_text(uow_factory, VERA)
    assert text.splitlines() == ["⏱ Service hours of team Repair (this month / this year):",
                                 "• Victor: 1.5 / 1.5 h (+1 h honour)"]
    with pytest.raises(NotAllowed):
        await act(uow_factory, VICTOR, hours.team_view)


async def test_the_export_and_certificate_are_sent_as_documents_to_those_allowed(uow_factory: UowFactory) -> None:
    await world(uow_factory)
    with pytest.raises(NotAllowed):
        await act(uow_factory, VERA, hours.export, "this")
    with pytest.raises(NotAllowed):  # a volunteer asks only for their own certificate
        await act(uow_factory, VERA, hours.certificate, "year", "R-2")
    with pytest.raises(InvalidInput):  # /certificate alone, by a coordinator in no team: how to issue one
        await act(uow_factory, COCO, hours.ask_certificate)
    await act(uow_factory, VERA, hours.ask_certificate)  # a volunteer: her hours and the buttons
    assert "hcert:year" in str(await last_markup(uow_factory, VERA))
    await act(uow_factory, COCO, hours.export, "last")
    await act(uow_factory, VERA, hours.certificate, "lastyear")
    await act(uow_factory, COCO, hours.certificate, "month", "R-2")
    async with uow_factory() as uow:
        vera, victor = [await uow.users.by_telegram_id(t) for t in (VERA, VICTOR)]
        assert vera is not None and victor is not None
        vera_id, victor_id = vera.id, victor.id
        sent = [(r.chat_id, r.payload["attachment"]) for r in await uow.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id)) if "attachment" in r.payload]
    assert sent == [
        (COCO, {"kind": "hours", "month": "2025-12", "format": "xlsx", "field": "document"}),
        (VERA, {"kind": "certificate", "user": vera_id, "start": "2025-01-01", "end": "2025-12-31",
                "field": "document"}),
        (COCO, {"kind": "certificate", "user": victor_id, "start": "2026-01-01", "end": "2026-01-15",
                "field": "document"})]


async def test_honour_hours_by_short_answers(uow_factory: UowFactory) -> None:
    await world(uow_factory)
    await act(uow_factory, COCO, hours.coordinator_help)
    assert (await last_text(uow_factory, COCO)).endswith(
        "To add honour hours now, type the volunteer's registry number.")
    with pytest.raises(NotFound):  # a number nobody has: asked again
        await act(uow_factory, COCO, dialogs.handle_input, Input(text="R-404"))
    assert await act(uow_factory, COCO, dialogs.handle_input, Input(text="R-2"))
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == COCO)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        buttons = [b["callback_data"] for b in row.payload["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["hhon:1", "hhon:2", "hhon:4", "hhon:8"]  # the person stays in the dialog row
    with pytest.raises(NotAllowed):
        await act(uow_factory, VERA, hours.honour_hours_chosen, "8")
    await act(uow_factory, COCO, hours.honour_hours_chosen, "4")
    with pytest.raises(InvalidInput):
        await act(uow_factory, COCO, dialogs.handle_input, Input(text="   "))
    await act(uow_factory, COCO, dialogs.handle_input, Input(text="防汛值守"))
    assert "防汛值守" in await last_text(uow_factory, VICTOR)
    with pytest.raises(Conflict):  # the dialog is over: an old button does nothing
        await act(uow_factory, COCO, hours.honour_hours_chosen, "4")
    async with uow_factory() as uow:
        honour = (await uow.session.scalars(select(HoursEntry).where(HoursEntry.source == "honour"))).one()
        assert (honour.minutes, honour.reason) == (240, "防汛值守")
        assert await uow.dialogs.get(honour.created_by or 0) is None
