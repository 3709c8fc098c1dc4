"""Team activities in the services, on SQLite and PostgreSQL: who may create and change one, the
creation dialog to a published card, sign-ups to the waitlist and back, a change or cancellation
told to everyone, the reminders before the start on a FakeClock (waiting out quiet hours), and the
monthly quota reminder, only for teams under target and only once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import activities, activity_dialog, dialogs
from bot.services.context import ActivityConfig, ServiceConfig, ServiceContext
from bot.services.schedule import activity_rules
from bot.services.schedule.sweep import Sweeper
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES, Settings
from storage.models import Activity, OutboxMessage, ScheduledItem
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
COCO, LEO, FRED, RITA = 9001, 9002, 9003, 9004  # a coordinator, repair's leader, fixers' leader, a resident
VOLUNTEERS = list(range(9100, 9112))  # twelve members of repair
REPAIR_CHAT, FIXERS_CHAT, RESCUE_CHAT = -601, -602, -603
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), activities=ActivityConfig(per_team_per_month=2))
# The clock starts on 15 January 2026, 17:30 in Shanghai; the activity is on the 17th at 7:30 local.
START_TEXT, STARTS_AT = "1-17 7:30", dt.datetime(2026, 1, 16, 23, 30, tzinfo=dt.UTC)


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    """One update of ``telegram_id``'s, in its own unit of work (services commit themselves)."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def typed(uow_factory: UowFactory, telegram_id: int, text: str) -> None:
    async def answer(ctx: ServiceContext) -> None:
        assert await dialogs.handle_input(ctx, Input(text=text))
    await act(uow_factory, telegram_id, answer)


async def world(uow_factory: UowFactory) -> dict[str, int]:
    """Teams repair, fixers and rescue with groups; Leo leads repair, Fred leads fixers and rescue;
    twelve approved volunteers in repair; Coco coordinates."""
    async with uow_factory() as uow:
        ids = {}
        for code, chat in (("repair", REPAIR_CHAT), ("fixers", FIXERS_CHAT), ("rescue", RESCUE_CHAT)):
            team = await uow.teams.add(code, code.title(), ["repair"])
            await uow.teams.bind_chat(team.id, chat)
            ids[code] = team.id
        (await uow.users.ensure(COCO, "Coco", "en")).is_coordinator = True
        for telegram_id, team_codes in ((LEO, ["repair"]), (FRED, ["fixers", "rescue"])):
            user = await uow.users.ensure(telegram_id, f"L{telegram_id}", "en")
            for code in team_codes:
                member = await uow.volunteers.add(user.id, ids[code], "Lead", "13800000000")
                await uow.volunteers.decide(member.id, True)
                await uow.volunteers.set_leader(user.id, ids[code], True)
        for telegram_id in VOLUNTEERS:
            user = await uow.users.ensure(telegram_id, f"V{telegram_id}", "en")
            await uow.volunteers.decide((await uow.volunteers.add(user.id, ids["repair"], "V", "13800000001")).id, True)
        await uow.commit()
        return ids


async def create(uow_factory: UowFactory, *, capacity: str = "10", also: int | None = None) -> int:
    """Leo creates an activity through the dialog, answer by answer, and publishes it."""
    await act(uow_factory, LEO, activity_dialog.begin)
    await typed(uow_factory, LEO, "Repair day")
    await typed(uow_factory, LEO, START_TEXT)
    await act(uow_factory, LEO, activity_dialog.pick, "length", "2")
    await typed(uow_factory, LEO, "Community hall, room 2")
    await act(uow_factory, LEO, activity_dialog.pick, "capacity", capacity)
    await act(uow_factory, LEO, activity_dialog.pick, "bring", "none")
    await act(uow_factory, LEO, activity_dialog.pick, "deadline", "3")
    await act(uow_factory, LEO, activity_dialog.pick, "skill", "none")
    if also is not None:
        await act(uow_factory, LEO, activity_dialog.toggle_also, also)
    await act(uow_factory, LEO, activity_dialog.publish)
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(Activity.id).order_by(Activity.id.desc())) or 0)


async def texts(uow_factory: UowFactory, chat_id: int, kind: str = "send") -> list[str]:
    async with uow_factory() as uow:
        return [str(r.payload.get("text", "")) for r in (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))).all()]


async def reminders(uow_factory: UowFactory) -> list[tuple[int | None, int, str]]:
    """Every activity reminder: (user id, hours before, state)."""
    async with uow_factory() as uow:
        return [(i.user_id, i.step, i.state) for i in (await uow.session.scalars(
            select(ScheduledItem).where(ScheduledItem.kind == activities.REMINDER)
            .order_by(ScheduledItem.user_id, ScheduledItem.step))).all()]


async def user_id(uow_factory: UowFactory, telegram_id: int) -> int:
    async with uow_factory() as uow:
        user = await uow.users.by_telegram_id(telegram_id)
        assert user is not None
        return user.id


async def sweep_at(engine: AsyncEngine, clock: FakeClock, moment: dt.datetime) -> None:
    """The application's sweep (its wiring, without Telegram) over the activity rules, at ``moment``."""
    clock.now = moment
    deps = make_deps(Settings(telegram={"token": "1:x"}, activities={"per_team_per_month": 2}), engine, clock)
    await Sweeper(deps, activity_rules.HANDLERS).sweep()


# -- who may create and change ---------------------------------------------------------------------------
async def test_a_resident_cannot_create_and_a_leader_only_for_their_own_teams(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, activity_dialog.begin)
    with pytest.raises(NotAllowed):
        await act(uow_factory, VOLUNTEERS[0], activity_dialog.begin)  # a member, not a leader
    await act(uow_factory, FRED, activity_dialog.begin)  # two teams: he chooses, but only among his own
    assert "Which team holds it?" in (await texts(uow_factory, FRED))[-1]
    with pytest.raises(NotAllowed):
        await act(uow_factory, FRED, activity_dialog.choose_team, ids["repair"])
    number = await create(uow_factory)
    for actor in (FRED, VOLUNTEERS[0], RITA):  # a leader of another team, a member, a resident
        with pytest.raises(NotAllowed):
            await act(uow_factory, actor, activities.ask_change, number, "place")
        with pytest.raises(NotAllowed):
            await act(uow_factory, actor, activities.cancel, number)
    await act(uow_factory, COCO, activities.ask_change, number, "place")  # a coordinator: any team's
    await typed(uow_factory, COCO, "Library")
    async with uow_factory() as uow:
        activity = await uow.activities.get(number)
        assert activity is not None and activity.place == "Library"


async def test_wrong_answers_are_refused_and_the_step_stays(uow_factory: UowFactory) -> None:
    await world(uow_factory)
    await act(uow_factory, LEO, activity_dialog.begin)
    with pytest.raises(DomainError):
        await typed(uow_factory, LEO, "x" * 129)
    await typed(uow_factory, LEO, "Repair day")
    for wrong in ("tomorrow", "1-15 8:00", "13-40 9:00"):  # not a time, the past, no such day
        with pytest.raises(DomainError):
            await typed(uow_factory, LEO, wrong)
    with pytest.raises(Conflict):  # a button of a later step
        await act(uow_factory, LEO, activity_dialog.pick, "capacity", "10")
    async with uow_factory() as uow:
        dialog = await uow.dialogs.get(await user_id(uow_factory, LEO))
        assert dialog is not None and dialog.step == "start"


# -- the card, sign-ups and the waitlist ----------------------------------------------------------------
async def test_twelve_sign_ups_for_ten_places_and_a_cancellation_promotes_the_first_waiting(
        uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    number = await create(uow_factory, also=ids["fixers"])
    [card] = await texts(uow_factory, REPAIR_CHAT)
    assert "Repair day" in card and "👥 已报名：0/10" in card and "room 2" in card  # groups read Chinese
    assert len(await texts(uow_factory, FIXERS_CHAT)) == 1 and await texts(uow_factory, RESCUE_CHAT) == []
    assert "Check-in code" in (await texts(uow_factory, LEO))[-1]
    answers = [await act(uow_factory, v, activities.sign_up, number) for v in VOLUNTEERS]
    assert answers[:10] == ["✅ You are signed up. Thank you!"] * 10
    assert answers[10:] == ["⏳ You are on the waitlist (number 1).", "⏳ You are on the waitlist (number 2)."]
    assert await act(uow_factory, VOLUNTEERS[0], activities.sign_up, number) == "You are already signed up."
    edited = await texts(uow_factory, REPAIR_CHAT, "edit")
    assert "👥 已报名：10/10" in edited[-1] and "⏳ 候补：2人" in edited[-1]
    assert (await texts(uow_factory, FIXERS_CHAT, "edit"))[-1] == edited[-1]  # every card is live
    assert "number 2 on the waitlist" in (await texts(uow_factory, VOLUNTEERS[11]))[-1]
    assert len(await reminders(uow_factory)) == 20  # 24 h and 1 h before, for each of the ten with a place

    await act(uow_factory, VOLUNTEERS[3], activities.withdraw, number)
    assert "A place became free and it is yours" in (await texts(uow_factory, VOLUNTEERS[10]))[-1]
    assert "Your sign-up is cancelled" in (await texts(uow_factory, VOLUNTEERS[3]))[-1]
    edited = await texts(uow_factory, REPAIR_CHAT, "edit")
    assert "👥 已报名：10/10" in edited[-1] and "⏳ 候补：1人" in edited[-1]
    withdrawn, promoted = await user_id(uow_factory, VOLUNTEERS[3]), await user_id(uow_factory, VOLUNTEERS[10])
    states = await reminders(uow_factory)
    assert [s for u, _h, s in states if u == withdrawn] == ["cancelled", "cancelled"]
    assert [s for u, _h, s in states if u == promoted] == ["pending", "pending"]
    with pytest.raises(Conflict):
        await act(uow_factory, VOLUNTEERS[3], activities.withdraw, number)


async def test_a_skill_is_required_and_the_deadline_closes_sign_up(uow_factory: UowFactory, clock: FakeClock) -> None:
    await world(uow_factory)
    number = await create(uow_factory)
    async with uow_factory() as uow:
        activity = await uow.activities.get(number)
        assert activity is not None
        activity.skill = "consulting"
        await uow.commit()
    with pytest.raises(NotAllowed):
        await act(uow_factory, VOLUNTEERS[0], activities.sign_up, number)
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, activities.sign_up, number)  # not a volunteer
    async with uow_factory() as uow:
        activity = await uow.activities.get(number)
        assert activity is not None
        activity.skill = "repair"  # the team's own category counts
        await uow.commit()
    await act(uow_factory, VOLUNTEERS[0], activities.sign_up, number)
    clock.now = STARTS_AT - dt.timedelta(hours=2)  # past the deadline (3 h before)
    with pytest.raises(Conflict):
        await act(uow_factory, VOLUNTEERS[0], activities.withdraw, number)
    with pytest.raises(Conflict):
        await act(uow_factory, VOLUNTEERS[1], activities.sign_up, number)


# -- change and cancel ----------------------------------------------------------------------------------
async def test_a_change_and_a_cancellation_are_told_to_everyone(uow_factory: UowFactory) -> None:
    await world(uow_factory)
    number = await create(uow_factory, capacity="5")
    for v in VOLUNTEERS[:7]:  # five in, two waiting
        await act(uow_factory, v, activities.sign_up, number)
    await act(uow_factory, LEO, activities.ask_change, number, "time")
    await typed(uow_factory, LEO, "1-18 9:00")
    for v in VOLUNTEERS[:7]:
        assert "Time changed" in (await texts(uow_factory, v))[-1]
    async with uow_factory() as uow:
        activity = await uow.activities.get(number)
        assert activity is not None
        assert activity.starts_at == dt.datetime(2026, 1, 18, 1, 0, tzinfo=dt.UTC)
        assert activity.ends_at - activity.starts_at == dt.timedelta(hours=2)
    states = await reminders(uow_factory)
    assert sum(s == "pending" for _u, _h, s in states) == 10 and sum(s == "cancelled" for _u, _h, s in states) == 10

    await act(uow_factory, LEO, activities.ask_change, number, "capacity")
    with pytest.raises(Conflict):  # fewer than the five who have a place
        await typed(uow_factory, LEO, "4")
    await typed(uow_factory, LEO, "6")
    assert "A place became free" in (await texts(uow_factory, VOLUNTEERS[5]))[-2]

    await act(uow_factory, LEO, activities.cancel, number)
    for v in VOLUNTEERS[:7]:
        assert "this activity is cancelled" in (await texts(uow_factory, v))[-1]
    edited = (await texts(uow_factory, REPAIR_CHAT, "edit"))[-1]
    assert "❌ 这个活动已取消。" in edited and "已报名" not in edited
    assert all(s == "cancelled" for _u, _h, s in await reminders(uow_factory))
    with pytest.raises(Conflict):
        await act(uow_factory, VOLUNTEERS[8], activities.sign_up, number)


# -- reminders and the quota ------------------------------------------------------------------------------
async def test_reminders_come_a_day_and_an_hour_before_after_quiet_hours(uow_factory: UowFactory, engine: AsyncEngine,
                                                                       clock: FakeClock) -> None:
    await world(uow_factory)
    number = await create(uow_factory)
    await act(uow_factory, VOLUNTEERS[0], activities.sign_up, number)
    await act(uow_factory, VOLUNTEERS[1], activities.sign_up, number)
    await act(uow_factory, VOLUNTEERS[1], activities.withdraw, number)
    before = len(await texts(uow_factory, VOLUNTEERS[0]))
    await sweep_at(engine, clock, STARTS_AT - dt.timedelta(hours=24, minutes=1))
    assert len(await texts(uow_factory, VOLUNTEERS[0])) == before
    await sweep_at(engine, clock, STARTS_AT - dt.timedelta(hours=24))  # 7:30 on the 16th in Shanghai
    assert "starts in about 24 h" in (await texts(uow_factory, VOLUNTEERS[0]))[-1]
    await sweep_at(engine, clock, STARTS_AT - dt.timedelta(hours=1))  # 6:30: quiet hours until 7:00
    assert len(await texts(uow_factory, VOLUNTEERS[0])) == before + 1
    await sweep_at(engine, clock, STARTS_AT - dt.timedelta(minutes=30))
    assert "starts in about 1 h" in (await texts(uow_factory, VOLUNTEERS[0]))[-1]
    assert len(await texts(uow_factory, VOLUNTEERS[0])) == before + 2
    assert not any("Reminder" in t for t in await texts(uow_factory, VOLUNTEERS[1]))  # cancelled: none


async def test_the_quota_reminder_goes_once_to_leaders_of_teams_under_target(
        uow_factory: UowFactory, engine: AsyncEngine, clock: FakeClock) -> None:
    ids = await world(uow_factory)
    await create(uow_factory)  # repair: one this month
    async with uow_factory() as uow:
        for title in ("A", "B"):  # rescue: two, the target
            await uow.activities.add(team_id=ids["rescue"], title=title, place="Hall", starts_at=STARTS_AT,
                                     ends_at=STARTS_AT + dt.timedelta(hours=1), capacity=5,
                                     signup_deadline=STARTS_AT, code=f"QQQQQ{title}")
        assert await activity_rules.schedule_quota(uow, CONFIG, clock.now)
        assert not await activity_rules.schedule_quota(uow, CONFIG, clock.now)  # keyed: once
        await uow.commit()
    fred_before = len(await texts(uow_factory, FRED))
    await sweep_at(engine, clock, dt.datetime(2026, 1, 15, 23, 59, tzinfo=dt.UTC))
    assert not any("this month" in t for t in await texts(uow_factory, LEO))
    await sweep_at(engine, clock, dt.datetime(2026, 1, 16, 0, 0, tzinfo=dt.UTC))  # the 16th, 8:00 local
    leo = [t for t in await texts(uow_factory, LEO) if "this month" in t]
    fred = [t for t in await texts(uow_factory, FRED) if "this month" in t]
    assert leo == ["📅 Team Repair has 1 activity this month; the target is 2. Tap 📅 Activities, then New "
                   "activity, to plan one."]
    assert len(fred) == 1 and "Team Fixers has 0" in fred[0]  # rescue met its target: no reminder for it
    assert len(await texts(uow_factory, FRED)) == fred_before + 1
    await sweep_at(engine, clock, dt.datetime(2026, 1, 20, 0, 0, tzinfo=dt.UTC))
    assert len([t for t in await texts(uow_factory, LEO) if "this month" in t]) == 1
    async with uow_factory() as uow:
        keys = [(i.key, i.state) for i in (await uow.session.scalars(
            select(ScheduledItem).where(ScheduledItem.kind == activities.QUOTA).order_by(ScheduledItem.id))).all()]
    assert keys == [("activity_quota:2026-01-01", "done"), ("activity_quota:2026-02-01", "pending")]
