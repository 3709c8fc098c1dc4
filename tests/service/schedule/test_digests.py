"""Digests and the monthly report (bot.services.schedule.digests) with an injected clock, through the real
sweep (no Telegram), on SQLite and PostgreSQL: the next occurrence across days, weeks, months and
the year end in Shanghai (UTC+8, so 08:00 local is 00:00 UTC); one row per occurrence however many
processes schedule it; which requests the daily digest names; the weekly list is group-safe; the
monthly counts and averages with "no response" apart; catch-up after downtime."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.services.context import ReminderConfig, ServiceConfig
from bot.services.schedule import digests
from bot.services.schedule.sweep import Sweeper
from bot.settings import Settings
from storage.models import OutboxMessage, ScheduledItem, Volunteer
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock, UowFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEAM_CHAT, OTHER_CHAT, CENTRE = -500, -600, -100
COORDINATOR, LEADER, MEMBER, RESIDENT = 11, 12, 13, 14
I18N = I18n()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@dataclass
class World:
    uow_factory: UowFactory
    clock: FakeClock
    sweeper: Sweeper
    config: ServiceConfig
    teams: dict[str, int]
    people: dict[int, int]  # telegram id → users.id

    async def startup(self) -> int:
        """What post_init does: schedule the next occurrences, commit."""
        async with self.uow_factory() as uow:
            created = await digests.schedule_recurring(uow, self.config, uow.now())
            await uow.commit()
            return created

    async def sweep_at(self, when: dt.datetime) -> None:
        self.clock.now = when
        await self.sweeper.sweep()

    async def order(self, status: str, *, at: dt.datetime, team: str | None = "repair", urgent: bool = False,
                    appointment: dt.datetime | None = None, volunteer: int | None = None, **fields: Any) -> int:
        """An order that entered ``status`` at ``at`` (written directly: no reminder items)."""
        saved, self.clock.now = self.clock.now, at
        values: dict[str, Any] = {
            "category": "repair", "description": "leak", "community": "东湖", "building": "3",
            "address_detail": "501", "when_text": "today", "contact_name": "Rita", "contact_phone": "+8613800000001",
            **fields}
        async with self.uow_factory() as uow:
            order = await uow.orders.add(
                resident_id=self.people[RESIDENT], status=status, urgent=urgent, appointment_at=appointment,
                team_id=self.teams[team] if team else None,
                volunteer_id=self.people[volunteer] if volunteer else None, **values)
            await uow.commit()
        self.clock.now = saved
        return order.id

    async def closed(self, *, at: dt.datetime, team: str = "repair", stars: Sequence[int | None] = (),
                     no_response: bool = False, status: str = "closed") -> int:
        """An order closed at ``at`` after ``len(stars)`` rounds, each rated (None: not solved)."""
        number = await self.order(status, at=at, team=team, round=max(1, len(stars)), no_response=no_response)
        async with self.uow_factory() as uow:
            for round_, given in enumerate(stars, start=1):
                await uow.ratings.add(number, round_, self.people[RESIDENT], stars=given, solved=given is not None)
            await uow.commit()
        return number

    async def texts(self, chat_id: int) -> list[str]:
        async with self.uow_factory() as uow:
            rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id,
                                                                         OutboxMessage.kind == "send")
                                             .order_by(OutboxMessage.id))
            return [str(r.payload.get("text", "")) for r in rows]

    async def items(self, kind: str) -> list[tuple[str, str, dt.datetime, str | None]]:
        async with self.uow_factory() as uow:
            rows = await uow.session.scalars(select(ScheduledItem).where(ScheduledItem.kind == kind)
                                             .order_by(ScheduledItem.due_at, ScheduledItem.id))
            return [(str(i.key), i.state, i.due_at, i.result) for i in rows]


@pytest.fixture
async def world(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock,
                uow_factory: UowFactory) -> World:
    settings = Settings(telegram={"token": "1:x"}, coordinators_chat_id=CENTRE, default_language="en")
    deps = make_deps(settings, engine, clock)
    config = deps.config
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(COORDINATOR, "Coco", "en")
        coordinator.is_coordinator = True
        repair = await uow.teams.add("repair", "Repair", ["repair"])
        fixers = await uow.teams.add("fixers", "Fixers", ["repair"])
        quiet = await uow.teams.add("quiet", "Quiet", ["delivery"])  # no group yet
        old = await uow.teams.add("old", "Old", ["repair"])
        await uow.teams.bind_chat(repair.id, TEAM_CHAT)
        await uow.teams.bind_chat(fixers.id, OTHER_CHAT)
        people = {COORDINATOR: coordinator.id}
        for telegram_id, name in ((LEADER, "Vova"), (MEMBER, "Mila"), (RESIDENT, "Rita")):
            people[telegram_id] = (await uow.users.ensure(telegram_id, name, "en")).id
        for telegram_id, team_id, leader in ((LEADER, repair.id, True), (MEMBER, fixers.id, False)):
            uow.session.add(Volunteer(user_id=people[telegram_id], team_id=team_id, name=f"v{telegram_id}",
                                      phone="+8613911112222", status="approved", is_leader=leader,
                                      created_at=uow.now()))
        await uow.commit()
        teams = {"repair": repair.id, "fixers": fixers.id, "quiet": quiet.id, "old": old.id}
    return World(uow_factory, clock, Sweeper(deps, digests.HANDLERS), config, teams, people)


def numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"#(\d+)", text)}


# -- when ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "kind", "key", "due"), [
    # 07:59 local on Monday 2026-11-30: today's digest and today's weekly list are still ahead.
    (utc(2026, 11, 29, 23, 59), digests.DAILY, "daily_digest:2026-11-30", utc(2026, 11, 30, 0, 0)),
    (utc(2026, 11, 29, 23, 59), digests.WEEKLY, "weekly_digest:2026-11-30", utc(2026, 11, 30, 0, 0)),
    # exactly 08:00 local: strictly after now, so tomorrow and next Monday
    (utc(2026, 11, 30, 0, 0), digests.DAILY, "daily_digest:2026-12-01", utc(2026, 12, 1, 0, 0)),
    (utc(2026, 11, 30, 0, 0), digests.WEEKLY, "weekly_digest:2026-12-07", utc(2026, 12, 7, 0, 0)),
    (utc(2026, 11, 30, 0, 0), digests.MONTHLY, "monthly_report:2026-12-01", utc(2026, 12, 1, 0, 0)),
    # 23:30 local on Thursday 2026-01-15 (15:30 UTC): the local date, not the UTC one, names the day.
    (utc(2026, 1, 15, 15, 30), digests.DAILY, "daily_digest:2026-01-16", utc(2026, 1, 16, 0, 0)),
    (utc(2026, 1, 15, 15, 30), digests.WEEKLY, "weekly_digest:2026-01-19", utc(2026, 1, 19, 0, 0)),
    # 00:30 local on 2026-01-16 is still 2026-01-15 in UTC
    (utc(2026, 1, 15, 16, 30), digests.DAILY, "daily_digest:2026-01-16", utc(2026, 1, 16, 0, 0)),
    # the end of February (2026 is no leap year) and of the month
    (utc(2026, 2, 28, 1, 0), digests.DAILY, "daily_digest:2026-03-01", utc(2026, 3, 1, 0, 0)),
    (utc(2026, 2, 1, 0, 1), digests.MONTHLY, "monthly_report:2026-03-01", utc(2026, 3, 1, 0, 0)),
    (utc(2026, 1, 31, 23, 59), digests.MONTHLY, "monthly_report:2026-02-01", utc(2026, 2, 1, 0, 0)),
    # the year end: 2026-12-31 09:00 local, then 2027-01-01 00:30 local (still 2026 in UTC)
    (utc(2026, 12, 31, 1, 0), digests.DAILY, "daily_digest:2027-01-01", utc(2027, 1, 1, 0, 0)),
    (utc(2026, 12, 31, 1, 0), digests.MONTHLY, "monthly_report:2027-01-01", utc(2027, 1, 1, 0, 0)),
    (utc(2026, 12, 31, 1, 0), digests.WEEKLY, "weekly_digest:2027-01-04", utc(2027, 1, 4, 0, 0)),
    (utc(2026, 12, 31, 16, 30), digests.DAILY, "daily_digest:2027-01-01", utc(2027, 1, 1, 0, 0)),
    (utc(2027, 1, 1, 0, 0), digests.MONTHLY, "monthly_report:2027-02-01", utc(2027, 2, 1, 0, 0)),
])
def test_the_next_occurrence_in_local_time(now: dt.datetime, kind: str, key: str, due: dt.datetime) -> None:
    assert digests.next_occurrence(kind, now, SHANGHAI, ReminderConfig()) == (key, due)


def test_the_next_occurrence_follows_the_settings() -> None:
    # 07:00 local is 23:00 UTC the evening before: the key keeps the local date.
    early = ReminderConfig(digest_time="07:00", weekly_digest_weekday=6)  # Sundays
    now = utc(2026, 12, 26, 22, 0)  # Sunday 2026-12-27 06:00 local
    assert digests.next_occurrence(digests.DAILY, now, SHANGHAI, early) == (
        "daily_digest:2026-12-27", utc(2026, 12, 26, 23, 0))
    assert digests.next_occurrence(digests.WEEKLY, now, SHANGHAI, early) == (
        "weekly_digest:2026-12-27", utc(2026, 12, 26, 23, 0))
    assert digests.next_occurrence(digests.WEEKLY, utc(2026, 12, 26, 23, 0), SHANGHAI, early) == (
        "weekly_digest:2027-01-03", utc(2027, 1, 2, 23, 0))
    assert digests.next_occurrence(digests.MONTHLY, now, SHANGHAI, early) == (
        "monthly_report:2027-01-01", utc(2026, 12, 31, 23, 0))


# -- scheduling ----------------------------------------------------------------------------------
async def test_two_processes_schedule_each_occurrence_once(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)

    async def process() -> int:
        return await world.startup()

    assert sorted(await asyncio.gather(process(), process())) == [0, 3]
    assert await world.startup() == 0  # a restart
    for kind, key in ((digests.DAILY, "daily_digest:2026-03-10"), (digests.WEEKLY, "weekly_digest:2026-03-16"),
                      (digests.MONTHLY, "monthly_report:2026-04-01")):
        assert [(k, state) for k, state, _due, _r in await world.items(kind)] == [(key, "pending")]


async def test_each_digest_schedules_the_next_one(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    await world.sweep_at(utc(2026, 3, 10, 0, 0))
    await world.sweep_at(utc(2026, 3, 11, 0, 0))
    assert [(k, state) for k, state, _due, _r in await world.items(digests.DAILY)] == [
        ("daily_digest:2026-03-10", "done"), ("daily_digest:2026-03-11", "done"),
        ("daily_digest:2026-03-12", "pending")]
    assert sum("📋 Digest" in t for t in await world.texts(CENTRE)) == 2


# -- the daily digest --------------------------------------------------------------------------------
async def test_the_daily_digest_names_requests_waiting_too_long_and_past_their_time(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()  # the digest is due at 2026-03-10 08:00 local = 00:00 UTC
    due = utc(2026, 3, 10, 0, 0)
    hours = dt.timedelta(hours=1)
    stale = await world.order("dispatched", at=due - 4 * hours)  # past the last ladder step (180 min)
    fresh = await world.order("dispatched", at=due - 2 * hours)
    undispatched = await world.order("new", at=due - 6 * hours, team=None)
    urgent_stale = await world.order("dispatched", at=due - 40 / 60 * hours, team="fixers", urgent=True)  # > 30 min
    urgent_fresh = await world.order("dispatched", at=due - 20 / 60 * hours, team="fixers", urgent=True)
    late = await world.order("accepted", at=due - 30 * hours, appointment=due - 2 * hours, volunteer=LEADER)
    in_grace = await world.order("on_way", at=due - 30 * hours, appointment=due - 0.5 * hours, volunteer=LEADER)
    no_time = await world.order("accepted", at=due - 30 * hours, volunteer=LEADER)
    finished = await world.order("done", at=due - 30 * hours, appointment=due - 20 * hours, volunteer=LEADER)
    gone = await world.order("closed", at=due - 30 * hours)
    await world.sweep_at(due)
    [digest] = await world.texts(CENTRE)
    assert numbers(digest) == {stale, undispatched, urgent_stale, late}
    assert not numbers(digest) & {fresh, urgent_fresh, in_grace, no_time, finished, gone}
    assert "Digest Tue, 3/10" in digest
    lines = digest.splitlines()
    assert lines.index("⏳ Not taken in time: 3") < lines.index("⏰ Past their time: 1")
    assert "<b>Fixers</b> · 1" in lines and "<b>Repair</b> · 1" in lines and "<b>Not dispatched yet</b> · 1" in lines
    assert f"🚨 #{urgent_stale} Repair · 东湖 · waiting 40 min" in lines
    assert f"#{stale} Repair · 东湖 · waiting 4 h" in lines
    assert f"#{undispatched} Repair · 东湖 · waiting 6 h" in lines
    assert f"#{late} Repair · 东湖 · Vova · 2 h late" in lines
    assert "Rita" not in digest and "13800000001" not in digest and "501" not in digest


async def test_an_empty_day_is_all_clear(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    await world.sweep_at(utc(2026, 3, 10, 0, 5))
    assert await world.texts(CENTRE) == [
        "📋 Digest Tue, 3/10: all clear — no request waits too long or is past its time."]


async def test_a_long_digest_lists_the_first_requests_and_counts_the_rest(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    for _ in range(40):
        await world.order("dispatched", at=utc(2026, 3, 9, 12, 0), community="东湖" * 60)
    await world.sweep_at(utc(2026, 3, 10, 0, 0))
    [digest] = await world.texts(CENTRE)
    assert len(numbers(digest)) == 15 and "… and 25 more" in digest and len(digest) < 4096


# -- the weekly list -------------------------------------------------------------------------------------
async def test_the_weekly_list_shows_each_team_its_open_requests_and_nothing_personal(world: World) -> None:
    world.clock.now = utc(2026, 3, 15, 12, 0)
    await world.startup()  # Monday 2026-03-16 08:00 local
    at = utc(2026, 3, 14, 12, 0)
    personal = {"contact_name": "Zhang Wei", "contact_phone": "+8613800138000", "building": "Building 7",
                "address_detail": "Room 1203", "description": "leaking pipe, I am Zhang Wei, Room 1203",
                "when_text": "tomorrow 9:00, call 13900139000", "community": "阳光社区 13700137000"}
    waiting = await world.order("dispatched", at=at, urgent=True, **personal)
    taken = await world.order("accepted", at=at, volunteer=LEADER, **personal)
    going = await world.order("on_way", at=at, volunteer=LEADER, **personal)
    await world.order("closed", at=at, **personal)
    await world.order("new", at=at, team=None, **personal)
    elsewhere = await world.order("dispatched", at=at, team="fixers", **personal)
    await world.order("dispatched", at=at, team="quiet", **personal)  # a team without a group: not told
    await world.sweep_at(utc(2026, 3, 16, 0, 0))
    [weekly] = await world.texts(TEAM_CHAT)
    assert numbers(weekly) == {waiting, taken, going}
    assert weekly.splitlines()[0] == "<b>📋 Open requests of team Repair: 3</b>"
    assert f"🚨 #{waiting} Repair · 阳光社区 *** · 🕒 tomorrow 9:00, call *** · waiting for a volunteer" in weekly
    assert f"#{going} Repair" in weekly and "volunteer on the way" in weekly and "volunteer assigned" in weekly
    [other] = await world.texts(OTHER_CHAT)
    assert numbers(other) == {elsewhere}
    for text in (weekly, other):
        for secret in ("Zhang", "Wei", "138001", "13900139000", "13700137000", "Building 7", "1203", "leaking",
                       "Vova", "Rita", "13911112222"):
            assert secret not in text
    assert [(k, state) for k, state, _due, _r in await world.items(digests.WEEKLY)] == [
        ("weekly_digest:2026-03-16", "done"), ("weekly_digest:2026-03-23", "pending")]


async def test_a_team_without_open_requests_hears_a_short_line(world: World) -> None:
    world.clock.now = utc(2026, 3, 15, 12, 0)
    await world.startup()
    await world.sweep_at(utc(2026, 3, 16, 0, 0))
    assert await world.texts(TEAM_CHAT) == ["📋 This week team Repair has no open requests. Thank you all!"]


# -- the monthly report ----------------------------------------------------------------------------
async def test_the_monthly_report_counts_completed_requests_and_averages_ratings(world: World) -> None:
    # January 2026 in Shanghai is [2025-12-31 16:00, 2026-01-31 16:00) in UTC.
    await world.closed(at=utc(2026, 1, 10, 2, 0), stars=[5])
    await world.closed(at=utc(2026, 1, 31, 15, 30), stars=[4])  # 23:30 on 31 January in Shanghai
    await world.closed(at=utc(2026, 1, 20, 3, 0), no_response=True)  # counted apart from ratings
    await world.closed(at=utc(2026, 1, 15, 3, 0), stars=[2, 4])  # reopened once, then closed: its last rating
    await world.closed(at=utc(2026, 1, 12, 3, 0), stars=[1], status="dispatched")  # reopened: not completed
    await world.closed(at=utc(2026, 1, 31, 16, 30), stars=[5])  # 00:30 on 1 February in Shanghai
    await world.closed(at=utc(2025, 12, 31, 15, 0), stars=[1])  # 23:00 on 31 December in Shanghai
    await world.closed(at=utc(2026, 1, 5, 3, 0), team="fixers", stars=[3])
    await world.closed(at=utc(2026, 1, 6, 3, 0), team="old", stars=[5])
    async with world.uow_factory() as uow:
        await uow.teams.set_active(world.teams["old"], False)
        # Activities against the target (2 a month): Repair held two in January (a third was cancelled,
        # a fourth began on 1 February in Shanghai), Fixers one.
        for code, team, starts_at in (("AAAAA3", "repair", utc(2026, 1, 3, 2, 0)),
                                      ("AAAAA4", "repair", utc(2026, 1, 31, 15, 0)),
                                      ("AAAAA6", "repair", utc(2026, 1, 20, 2, 0)),
                                      ("AAAAA7", "repair", utc(2026, 1, 31, 16, 0)),
                                      ("AAAAA9", "fixers", utc(2026, 1, 9, 2, 0))):
            activity = await uow.activities.add(team_id=world.teams[team], title="Day", place="Hall", code=code,
                                                capacity=5, starts_at=starts_at,
                                                ends_at=starts_at + dt.timedelta(hours=1), signup_deadline=starts_at)
            if code == "AAAAA6":
                await uow.activities.cancel(activity.id)
        await uow.commit()
    world.clock.now = utc(2026, 1, 31, 20, 0)
    await world.startup()
    await world.sweep_at(utc(2026, 2, 1, 0, 0))
    [report] = [t for t in await world.texts(CENTRE) if "Monthly report" in t]
    assert report.splitlines() == [
        "<b>📊 Monthly report 1/2026</b>",
        "<b>Repair</b>: 4 completed · average ★4.3 (3 rated) · no response: 1",
        "<b>Fixers</b>: 1 completed · average ★3.0 (1 rated) · no response: 0",
        "<b>Quiet</b>: 0 completed · average — (0 rated) · no response: 0",
        "<b>Old</b>: 1 completed · average ★5.0 (1 rated) · no response: 0",  # archived, but it worked in January
        "<b>📅 Activities held</b>",  # the active teams' activities against the monthly target
        "Repair: 2 of 2 activities · ✅ target met",
        "Fixers: 1 of 2 activities · ❌ below target",
        "Quiet: 0 of 2 activities · ❌ below target",
    ]
    assert await world.texts(LEADER) == [
        "📊 Your team's month 1/2026:\n<b>Repair</b>: 4 completed · average ★4.3 (3 rated) · no response: 1\n"
        "Repair: 2 of 2 activities · ✅ target met"]
    assert await world.texts(MEMBER) == []  # not a leader
    assert [(k, state) for k, state, _due, _r in await world.items(digests.MONTHLY)] == [
        ("monthly_report:2026-02-01", "done"), ("monthly_report:2026-03-01", "pending")]


async def test_a_late_monthly_report_waits_for_the_next_morning(world: World) -> None:
    world.clock.now = utc(2026, 1, 31, 12, 0)
    await world.startup()
    await world.closed(at=utc(2026, 1, 10, 2, 0), stars=[5])
    world.clock.now = utc(2026, 2, 1, 13, 0)  # 21:00 local, 13 hours late: the bot was down all day
    await world.startup()
    await world.sweeper.sweep()
    assert not any("Monthly report" in t for t in await world.texts(CENTRE))
    [(key, state, due, _result), _next] = await world.items(digests.MONTHLY)
    assert (key, state, due) == ("monthly_report:2026-02-01", "pending", utc(2026, 2, 2, 0, 0))
    await world.sweep_at(utc(2026, 2, 2, 0, 0))
    [report] = [t for t in await world.texts(CENTRE) if "Monthly report" in t]
    assert "1/2026" in report and "<b>Repair</b>: 1 completed" in report
    assert len(await world.texts(LEADER)) == 1


# -- catch-up after downtime -------------------------------------------------------------------------
async def test_a_digest_missed_during_downtime_fires_once(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    world.clock.now = utc(2026, 3, 10, 3, 0)  # back at 11:00 local, three hours late
    assert await world.startup() == 1  # tomorrow's
    await world.sweeper.sweep()
    await world.sweep_at(utc(2026, 3, 10, 3, 1))
    assert await world.texts(CENTRE) == [
        "📋 Digest Tue, 3/10: all clear — no request waits too long or is past its time."]
    assert [(k, state) for k, state, _due, _r in await world.items(digests.DAILY)] == [
        ("daily_digest:2026-03-10", "done"), ("daily_digest:2026-03-11", "pending")]
    await world.sweep_at(utc(2026, 3, 11, 0, 0))
    assert len(await world.texts(CENTRE)) == 2


async def test_a_digest_more_than_twelve_hours_late_is_skipped(world: World) -> None:
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    world.clock.now = utc(2026, 3, 10, 12, 1)  # 20:01 local: the evening after
    await world.startup()
    await world.sweeper.sweep()
    assert await world.texts(CENTRE) == []
    [(key, state, _due, result), (following, pending, _d, _r)] = await world.items(digests.DAILY)
    assert (key, state, following, pending) == ("daily_digest:2026-03-10", "skipped", "daily_digest:2026-03-11",
                                                "pending")
    assert result is not None and result.startswith("stale")


async def test_a_stale_digest_keeps_the_next_one_it_scheduled(world: World) -> None:
    """No start-up since the outage (the sweep itself stalled): the stale digest schedules the next
    one, so it is recorded done, not sent, rather than skipped (which would roll that back)."""
    world.clock.now = utc(2026, 3, 9, 12, 0)
    await world.startup()
    await world.sweep_at(utc(2026, 3, 11, 0, 0) - dt.timedelta(minutes=1))  # 36 hours late, no restart
    assert await world.texts(CENTRE) == []
    assert [(k, state) for k, state, _due, _r in await world.items(digests.DAILY)] == [
        ("daily_digest:2026-03-10", "done"), ("daily_digest:2026-03-11", "pending")]
    assert (await world.items(digests.DAILY))[0][3] == "stale: due 2026-03-10 00:00 UTC, not sent"
    await world.sweep_at(utc(2026, 3, 11, 0, 0))
    assert len(await world.texts(CENTRE)) == 1
