"""Attendance through the services (bot.services.attendance) on a FakeClock, SQLite and PostgreSQL:
who may see the code and mark others, the check-in window, a typed code, the end's sweep checking
people out with their ledger entries, and entries that are never updated afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import Conflict, NotAllowed, NotFound
from bot.i18n import I18n
from bot.services import attendance
from bot.services.context import ServiceConfig
from bot.services.schedule import attendance_rules
from bot.services.schedule.sweep import Sweeper
from bot.services.wiring import service_context
from bot.settings import Settings
from bot.views import callbacks as cb
from storage.models import ActivitySignup, HoursEntry, OutboxMessage, ScheduledItem
from tests.support.activities import add_activity, sign_up
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.unit.test_attendance_rules import full_width

I18N = I18n()
CONFIG = ServiceConfig(categories=("repair",), default_language="en")
BOT = "vloop_bot"
LEADER, ANN, BOB, CAT, DAN, OUTSIDER, OTHER_LEADER, COORDINATOR = 11, 21, 22, 23, 24, 31, 41, 51
START = dt.datetime(2026, 1, 17, 1, 0, tzinfo=dt.UTC)  # Saturday 9:00 in Shanghai
HOUR = 3600


async def act(uow_factory: UowFactory, telegram_id: int, action: Any, *args: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
        ctx = service_context(uow, user, i18n=I18N, config=CONFIG, bot_username=BOT)
        return await action(ctx, *args)


@pytest.fixture
async def activity(uow_factory: UowFactory, clock: FakeClock) -> int:
    """Team repair's Saturday repair day (9:00–11:00, code K7Q2): Ann, Bob, Cat and Dan have a place,
    LEADER leads the team; OTHER_LEADER leads another team; the clock is an hour before the start."""
    clock.now = START - dt.timedelta(hours=1)
    async with uow_factory() as uow:
        repair = await uow.teams.add("repair", "Repair", ["repair"])
        food = await uow.teams.add("food", "Food", ["repair"])
        for telegram_id, team, leader in ((LEADER, repair, True), (OTHER_LEADER, food, True), (ANN, repair, False)):
            user = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
            member = await uow.volunteers.add(user.id, team.id, f"p{telegram_id}", f"+86138000000{telegram_id}")
            assert await uow.volunteers.decide(member.id, True)
            if leader:
                assert await uow.volunteers.set_leader(user.id, team.id, True)
        coordinator = await uow.users.ensure(COORDINATOR, "coco", "en")
        coordinator.is_coordinator = True
        row = await add_activity(uow, repair.id, starts_at=START)
        for telegram_id in (ANN, BOB, CAT, DAN):
            await sign_up(uow, row, (await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")).id)
        await uow.users.ensure(OUTSIDER, "out", "en")
        await uow.commit()
        return row.id


async def outbox(uow_factory: UowFactory, telegram_id: int) -> list[dict[str, Any]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                         .order_by(OutboxMessage.id))
        return [dict(r.payload) for r in rows]


def callbacks(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def signup_of(uow_factory: UowFactory, telegram_id: int) -> int:
    async with uow_factory() as uow:
        user = await uow.users.by_telegram_id(telegram_id)
        assert user is not None
        row = await uow.session.scalar(select(ActivitySignup.id).where(ActivitySignup.user_id == user.id))
        assert row is not None
        return row


async def ledger(uow_factory: UowFactory) -> list[tuple[Any, ...]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(HoursEntry).order_by(HoursEntry.id))
        return [(r.id, r.user_id, r.source, r.team_id, r.activity_id, r.minutes, r.served_at, r.ended_at,
                 r.created_at) for r in rows]


async def test_only_the_teams_leaders_and_coordinators_see_the_code_and_mark_others(
        uow_factory: UowFactory, clock: FakeClock, activity: int) -> None:
    for outsider in (ANN, OUTSIDER, OTHER_LEADER):
        with pytest.raises(NotAllowed):
            await act(uow_factory, outsider, attendance.show, activity)
        with pytest.raises(NotAllowed):
            await act(uow_factory, outsider, attendance.mark_present, await signup_of(uow_factory, BOB))
        with pytest.raises(NotAllowed):
            await act(uow_factory, outsider, attendance.finish_now, activity)
        assert not [m for m in await outbox(uow_factory, outsider) if activity_code_in(m)]
    with pytest.raises(NotAllowed, match="scan the QR code"):  # a volunteer's /checkin says how to check in
        await act(uow_factory, ANN, attendance.choose)

    await act(uow_factory, LEADER, attendance.choose)  # the one activity of the day: straight to it
    photo, roll = (await outbox(uow_factory, LEADER))[-2:]
    link = f"https://t.me/{BOT}?start=act_K7Q2"
    assert photo["method"] == "sendPhoto" and photo["attachment"]["text"] == link and "K7Q2" in photo["caption"]
    assert "p22, not here yet" in roll["text"]
    assert cb.pack(cb.CHECKIN_MARK, await signup_of(uow_factory, BOB)) in callbacks(roll)
    await act(uow_factory, COORDINATOR, attendance.show, activity)  # a coordinator runs any team's
    assert activity_code_in((await outbox(uow_factory, COORDINATOR))[-2])
    async with uow_factory() as uow:  # the end is scheduled once, however often the check-in is opened
        items = (await uow.session.scalars(select(ScheduledItem).where(ScheduledItem.activity_id == activity))).all()
        assert [(i.kind, i.due_at, i.state) for i in items] == [("activity_end", START + 2 * dt.timedelta(hours=1),
                                                                  "pending")]


def activity_code_in(message: dict[str, Any]) -> bool:
    return "K7Q2" in str(message.get("caption", "")) + str(message.get("text", ""))


async def test_the_window_and_who_may_check_in(uow_factory: UowFactory, clock: FakeClock, activity: int) -> None:
    with pytest.raises(Conflict, match="opens at"):  # an hour early: the window opens 30 minutes before
        await act(uow_factory, ANN, attendance.arrive_by_text, "k7q2")
    assert not await act(uow_factory, ANN, attendance.arrive_by_text, "WRONG1")  # no window open: not ours
    clock.now = START - dt.timedelta(minutes=30)
    with pytest.raises(NotFound, match="not valid"):  # a place at an open check-in: a wrong code is told
        await act(uow_factory, ANN, attendance.arrive_by_text, "WRONG1")
    assert not await act(uow_factory, OUTSIDER, attendance.arrive_by_text, "WRONG1")  # others: offered a request
    with pytest.raises(Conflict, match="not signed up"):
        await act(uow_factory, OUTSIDER, attendance.arrive_by_text, "K7Q2")
    with pytest.raises(NotFound, match="not valid"):
        await act(uow_factory, ANN, attendance.arrive_by_link, "ZZZZ")
    typed = full_width("k7") + " " + full_width("q2")  # full-width, lower case, a space
    assert await act(uow_factory, ANN, attendance.arrive_by_text, typed)
    assert "checked in at 8:30" in (await outbox(uow_factory, ANN))[-1]["text"]
    clock.advance(60)  # a double scan is not a check-out
    await act(uow_factory, ANN, attendance.arrive_by_link, "K7Q2")
    last = (await outbox(uow_factory, ANN))[-1]
    assert "already checked in" in last["text"] and callbacks(last) == [cb.pack(cb.CHECK_OUT, activity)]
    clock.now = START + dt.timedelta(hours=2)
    with pytest.raises(Conflict, match="has closed"):
        await act(uow_factory, BOB, attendance.arrive_by_link, "K7Q2")


async def test_the_end_checks_out_marks_no_shows_and_writes_the_ledger(
        uow_factory: UowFactory, clock: FakeClock, activity: int, engine: AsyncEngine) -> None:
    ids = {}
    async with uow_factory() as uow:
        for telegram_id in (ANN, BOB, CAT, DAN, LEADER):
            user = await uow.users.by_telegram_id(telegram_id)
            assert user is not None
            ids[telegram_id] = user.id
    clock.now = START - dt.timedelta(minutes=10)
    await act(uow_factory, ANN, attendance.arrive_by_text, "K7Q2")  # Ann: 8:50 → 10:00 by the button
    clock.now = START + dt.timedelta(minutes=5)
    await act(uow_factory, BOB, attendance.arrive_by_link, "K7Q2")  # Bob: 9:05 → the end
    clock.now = START + dt.timedelta(minutes=20)
    answer = await act(uow_factory, LEADER, attendance.mark_present, await signup_of(uow_factory, CAT))
    assert answer == "✅ p23 is marked present."  # Cat, by hand: 9:20 → the end; Dan never comes
    with pytest.raises(Conflict, match="already marked present"):
        await act(uow_factory, LEADER, attendance.mark_present, await signup_of(uow_factory, CAT))
    clock.now = START + dt.timedelta(hours=1)
    await act(uow_factory, ANN, attendance.check_out, activity)
    assert "1.17 h of service" in (await outbox(uow_factory, ANN))[-1]["text"]

    sweeper = Sweeper(make_deps(Settings(database={"url": "sqlite://"}), engine, clock), attendance_rules.HANDLERS)
    clock.now = START + dt.timedelta(hours=2) - dt.timedelta(seconds=1)
    assert (await sweeper.sweep()).handled == 0
    clock.now = START + dt.timedelta(hours=2, minutes=3)  # the sweep comes a little late: the end still counts
    assert (await sweeper.sweep()).done == 1
    end = START + dt.timedelta(hours=2)
    entries = await ledger(uow_factory)
    assert [e[1:8] for e in entries] == [
        (ids[ANN], "activity", 1, activity, 70, START - dt.timedelta(minutes=10), START + dt.timedelta(hours=1)),
        (ids[BOB], "activity", 1, activity, 115, START + dt.timedelta(minutes=5), end),
        (ids[CAT], "activity", 1, activity, 100, START + dt.timedelta(minutes=20), end),
    ]
    async with uow_factory() as uow:
        rows = {r.user_id: r for r in await uow.session.scalars(select(ActivitySignup))}
        assert rows[ids[DAN]].attendance == "no_show" and rows[ids[CAT]].marked_by == ids[LEADER]
        row = await uow.activities.get(activity)
        assert row is not None and row.status == "finished"
    summary = (await outbox(uow_factory, LEADER))[-1]["text"]
    assert "Came: 3. Did not come: 1. Hours of service: 4.75 h." in summary
    assert "checked out at 11:00. 1.92 h" in (await outbox(uow_factory, BOB))[-1]["text"]

    # Entries are never updated: another check-out, a leader's finish and a second sweep add nothing.
    with pytest.raises(Conflict, match="already checked out"):
        await act(uow_factory, BOB, attendance.check_out, activity)
    with pytest.raises(Conflict, match="has finished"):
        await act(uow_factory, LEADER, attendance.finish_now, activity)
    with pytest.raises(Conflict, match="has finished"):
        await act(uow_factory, DAN, attendance.arrive_by_text, "K7Q2")
    async with uow_factory() as uow:  # even if the end were scheduled again, it finds the activity finished
        row = await uow.activities.get(activity)
        assert row is not None
        await uow.session.execute(update(ScheduledItem).values(key=None))
        assert await attendance.schedule_end(uow, row)
        await uow.commit()
    assert (await sweeper.sweep()).skipped == 1
    assert await ledger(uow_factory) == entries


async def test_a_leader_finishes_early_and_lets_in_the_waiting_list(
        uow_factory: UowFactory, clock: FakeClock, activity: int) -> None:
    async with uow_factory() as uow:
        row = await uow.activities.get(activity)
        eve = await uow.users.ensure(25, "p25", "en")
        assert row is not None
        await sign_up(uow, row, eve.id, "waitlist")
        await uow.commit()
    clock.now = START
    with pytest.raises(Conflict, match="waiting list"):  # a code alone gives no place
        await act(uow_factory, 25, attendance.arrive_by_text, "K7Q2")
    await act(uow_factory, LEADER, attendance.mark_present, await signup_of(uow_factory, 25))
    assert "marked you present" in (await outbox(uow_factory, 25))[-1]["text"]
    clock.now = START + dt.timedelta(minutes=45)
    await act(uow_factory, LEADER, attendance.ask_finish, activity)
    assert callbacks((await outbox(uow_factory, LEADER))[-1]) == [cb.pack(cb.CHECKIN_FINISH_YES, activity)]
    await act(uow_factory, LEADER, attendance.finish_now, activity)
    assert [(e[1], e[5]) for e in await ledger(uow_factory)] == [(eve.id, 45)]
    assert "Came: 1. Did not come: 4." in (await outbox(uow_factory, LEADER))[-1]["text"]
    async with uow_factory() as uow:
        items = (await uow.session.scalars(select(ScheduledItem).where(ScheduledItem.activity_id == activity))).all()
        assert [i.state for i in items] == ["cancelled"]


async def test_the_hourly_watch_ends_an_activity_nobody_checked_in_at(
        uow_factory: UowFactory, clock: FakeClock, activity: int, engine: AsyncEngine) -> None:
    sweeper = Sweeper(make_deps(Settings(database={"url": "sqlite://"}), engine, clock), attendance_rules.HANDLERS)
    async with uow_factory() as uow:  # at start-up (8:00): nothing ends within the hour; the next watch at 9:00
        assert await attendance.watch_ends(uow, clock.now) == 0
        assert await attendance.watch_ends(uow, clock.now) == 0  # a second process makes no second watch
        await uow.commit()
    clock.now = START + dt.timedelta(hours=1)  # the 9:00 watch, swept at 10:00: the activity ends by 11:00
    assert (await sweeper.sweep()).done == 1
    clock.now = START + dt.timedelta(hours=2)
    assert (await sweeper.sweep()).done == 2  # the activity's end, and the 11:00 watch
    async with uow_factory() as uow:
        items = (await uow.session.scalars(select(ScheduledItem).order_by(ScheduledItem.id))).all()
        assert [(i.kind, i.state, i.result) for i in items] == [
            ("activity_ends", "done", "scheduled 1"), ("activity_end", "done", "finished"),
            ("activity_ends", "done", "scheduled 0"), ("activity_ends", "pending", None)]
        assert items[-1].due_at == START + dt.timedelta(hours=3)
        rows = (await uow.session.scalars(select(ActivitySignup))).all()
        assert {r.attendance for r in rows} == {"no_show"}
    assert "Came: 0. Did not come: 4. Hours of service: 0 h." in (await outbox(uow_factory, LEADER))[-1]["text"]
    assert await ledger(uow_factory) == []
