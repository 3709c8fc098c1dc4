"""Every reminder rule with an injected clock, through the real services and the real sweep (no
Telegram): the escalation ladder, claim leases, appointments and overdue nudges, the rating chase,
catch-up after downtime, and quiet hours. FakeClock starts at 09:30 UTC = 17:30 in Shanghai."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import I18n
from bot.services import claim, dispatch, rating, request, timetable
from bot.services.schedule import rules
from bot.services.schedule.sweep import Sweeper
from bot.services.wiring import service_context
from bot.settings import Settings
from storage.models import Order, OutboxMessage, ScheduledItem, Volunteer
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock, UowFactory

TEAM_CHAT, OTHER_CHAT, CENTRE = -500, -600, -100
COORDINATOR, VOLUNTEER, RESIDENT, OTHER_MEMBER = 11, 12, 13, 14
I18N = I18n()


@dataclass
class World:
    uow_factory: UowFactory
    clock: FakeClock
    sweeper: Sweeper
    config: Any

    async def call(self, telegram_id: int, action: Any, *args: Any) -> Any:
        async with self.uow_factory() as uow:
            user = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
            return await action(service_context(uow, user, i18n=I18N, config=self.config), *args)

    async def order(self, *, urgent: bool = False, when: str = "today") -> int:
        async with self.uow_factory() as uow:
            resident = await uow.users.ensure(RESIDENT, "Rita", "en")
            order = await uow.orders.add(
                resident_id=resident.id, status="new", category="emergency" if urgent else "repair", urgent=urgent,
                description="leak", community="东湖", building="3", address_detail="501", when_text=when,
                contact_name="Rita", contact_phone="+8613800000001",
                appointment_at=timetable.appointment_of(when, self.config.timezone, self.clock()))
            await uow.commit()
            return order.id

    async def dispatched(self, **kwargs: Any) -> int:
        number = await self.order(**kwargs)
        await self.call(COORDINATOR, dispatch.dispatch, number, "repair")
        return number

    async def accepted(self, **kwargs: Any) -> int:
        number = await self.dispatched(**kwargs)
        await self.call(VOLUNTEER, claim.accept, number, TEAM_CHAT)
        return number

    async def sweep_at(self, minutes: float) -> None:
        self.clock.advance(minutes * 60)
        await self.sweeper.sweep()

    async def texts(self, chat_id: int) -> list[str]:
        async with self.uow_factory() as uow:
            rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id,
                                                                         OutboxMessage.kind == "send")
                                             .order_by(OutboxMessage.id))
            return [str(r.payload.get("text", "")) for r in rows]

    async def items(self, number: int) -> list[tuple[str, int, str, str | None]]:
        async with self.uow_factory() as uow:
            rows = await uow.session.scalars(select(ScheduledItem).where(ScheduledItem.order_id == number)
                                             .order_by(ScheduledItem.id))
            return [(i.kind, i.step, i.state, i.result) for i in rows]

    async def status(self, number: int) -> Order:
        async with self.uow_factory() as uow:
            order = await uow.orders.get(number)
            assert order is not None
            uow.session.expunge_all()
            return order


@pytest.fixture
async def world(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock,
                uow_factory: UowFactory) -> World:
    settings = Settings(telegram={"token": "1:x"}, coordinators_chat_id=CENTRE, default_language="en")
    deps = make_deps(settings, engine, clock)
    config = deps.config
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(COORDINATOR, "Coco", "en")
        coordinator.is_coordinator = True
        team = await uow.teams.add("repair", "Repair", ["repair", "emergency"])
        other = await uow.teams.add("fixers", "Fixers", ["repair"])
        await uow.teams.bind_chat(team.id, TEAM_CHAT)
        await uow.teams.bind_chat(other.id, OTHER_CHAT)
        for telegram_id, team_id, leader in ((VOLUNTEER, team.id, True), (OTHER_MEMBER, other.id, False)):
            person = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
            uow.session.add(Volunteer(user_id=person.id, team_id=team_id, name=f"v{telegram_id}", phone="+861",
                                      status="approved", is_leader=leader, created_at=uow.now()))
        await uow.users.ensure(RESIDENT, "Rita", "en")
        await uow.commit()
    return World(uow_factory, clock, Sweeper(deps, rules.HANDLERS), config)


async def test_the_escalation_ladder_bumps_offers_and_alerts(world: World) -> None:
    number = await world.dispatched()
    await world.sweep_at(29)
    assert not any("still waiting" in t for t in await world.texts(TEAM_CHAT))
    await world.sweep_at(1)  # 30 min: step 1
    assert sum("still waiting" in t for t in await world.texts(TEAM_CHAT)) == 1
    await world.sweep_at(60)  # 90 min: step 2, the card goes to the other team with the category
    assert any(f"#{number}" in t for t in await world.texts(OTHER_CHAT))
    await world.sweep_at(90)  # 180 min: step 3, the leaders and the coordinators
    assert any("nobody has taken it" in t for t in await world.texts(CENTRE))
    assert any("Can you find someone?" in t for t in await world.texts(VOLUNTEER))
    assert [(k, s, state) for k, s, state, _ in await world.items(number)] == [
        ("escalate", 1, "done"), ("escalate", 2, "done"), ("escalate", 3, "done")]


async def test_an_emergency_climbs_the_ladder_faster(world: World) -> None:
    number = await world.dispatched(urgent=True)
    await world.sweep_at(5)
    assert [(k, s, state) for k, s, state, _ in await world.items(number)][:2] == [
        ("escalate", 1, "done"), ("escalate", 2, "pending")]


async def test_a_member_of_a_team_the_order_was_offered_to_takes_it(world: World) -> None:
    number = await world.dispatched()
    await world.sweep_at(90)
    await world.call(OTHER_MEMBER, claim.accept, number, OTHER_CHAT)
    order = await world.status(number)
    assert (order.status, order.team_id) == ("accepted", 2)
    # Accepting cancelled the rest of the ladder and started the claim lease.
    assert ("escalate", 3, "cancelled") in [(k, s, state) for k, s, state, _ in await world.items(number)]
    assert ("lease", 0, "pending") in [(k, s, state) for k, s, state, _ in await world.items(number)]


async def test_a_card_offered_to_another_team_keeps_saying_so_on_every_later_edit(world: World) -> None:
    number = await world.dispatched()
    await world.sweep_at(90)  # step 2: the card is offered to the other team
    offered = (await world.status(number)).offer_cards or {}
    assert len(offered) == 1
    card = int(next(iter(offered.values())))
    edits: list[str] = []  # each edit read as queued: a newer one supersedes it (a superseded row keeps no text)

    async def newest_edit() -> None:
        async with world.uow_factory() as uow:
            row = await uow.session.scalar(select(OutboxMessage).where(
                OutboxMessage.kind == "edit", OutboxMessage.target_id == card).order_by(OutboxMessage.id.desc()))
            assert row is not None
            edits.append(str(row.payload.get("text", "")))

    await world.sweep_at(90)  # step 3 edits the cards
    await newest_edit()
    for step, args in ((claim.accept, (OTHER_CHAT,)), (claim.on_my_way, ()), (claim.release, ()),
                       (claim.accept, (OTHER_CHAT,)), (claim.done, ())):
        await world.call(OTHER_MEMBER, step, number, *args)
        await newest_edit()
    own_card = (await world.status(number)).card_outbox_id
    async with world.uow_factory() as uow:
        rows = [(r.id, r.kind, r.target_id, str(r.payload.get("text", "")))
                for r in await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    posted = next(text for row, _, _, text in rows if row == card)
    own = [text for _, kind, target, text in rows if kind == "edit" and target == own_card and text]
    assert "Offered to your team too" in posted
    assert len(edits) == 6  # reminder 3/3, taken, on the way, released, taken again, done
    assert all("Offered to your team too" in text for text in edits), edits
    assert [t.split("\n")[-1] for t in edits][-1].startswith("Status: ✔️ done by")
    assert own and not any("Offered to your team too" in text for text in own)  # the team's own card: not offered


async def test_accepting_stops_the_ladder(world: World) -> None:
    number = await world.accepted()
    await world.sweep_at(500)
    assert not any("still waiting" in t for t in await world.texts(TEAM_CHAT))
    assert [state for kind, _, state, _ in await world.items(number) if kind == "escalate"] == ["cancelled"] * 3


async def test_the_claim_lease_asks_then_releases_and_the_resident_is_told(world: World) -> None:
    number = await world.accepted()
    await world.sweep_at(120)
    assert any("Are you still on it?" in t for t in await world.texts(VOLUNTEER))
    await world.sweep_at(30)
    order = await world.status(number)
    assert (order.status, order.volunteer_id) == ("dispatched", None)
    assert any("we are finding another one" in t for t in await world.texts(RESIDENT))
    assert ("escalate", 1, "pending") in [(k, s, state) for k, s, state, _ in await world.items(number)]


async def test_still_mine_renews_the_lease(world: World) -> None:
    number = await world.accepted()
    await world.sweep_at(120)
    await world.call(VOLUNTEER, claim.keep, number)
    await world.sweep_at(60)
    assert (await world.status(number)).status == "accepted"
    assert [state for kind, _, state, _ in await world.items(number) if kind == "lease_expiry"] == ["cancelled"]


async def test_on_my_way_ends_the_lease(world: World) -> None:
    number = await world.accepted()
    await world.call(VOLUNTEER, claim.on_my_way, number)
    await world.sweep_at(600)
    assert (await world.status(number)).status == "on_way"
    assert not any("Are you still on it?" in t for t in await world.texts(VOLUNTEER))


async def test_appointments_remind_before_and_nudge_after(world: World) -> None:
    # 2026-01-16 09:00 Shanghai = 01:00 UTC, about 15.5 hours after the clock's start.
    number = await world.accepted(when="2026-01-16")
    await world.call(VOLUNTEER, claim.keep, number)  # keep the lease out of the way
    await world.sweep_at(14.5 * 60 - 2)  # 07:58 Shanghai: not yet
    assert not any("Reminder: request" in t for t in await world.texts(VOLUNTEER))
    await world.sweep_at(3)  # 08:01, an hour before the agreed 09:00
    reminded = [t for t in await world.texts(VOLUNTEER) if "Reminder: request" in t]
    assert len(reminded) == 1 and "at Fri morning 9:00." in reminded[0]  # 2026-01-16, as people say it
    await world.call(VOLUNTEER, claim.on_my_way, number)
    await world.sweep_at(121)  # 10:00 + grace: the volunteer is nudged
    assert sum("is past its time" in t for t in await world.texts(VOLUNTEER)) == 1
    assert not any("has not marked it done" in t for t in await world.texts(CENTRE))
    await world.sweep_at(60)  # the second nudge reaches the coordinators too
    assert sum("is past its time" in t for t in await world.texts(VOLUNTEER)) == 2
    assert any("has not marked it done" in t for t in await world.texts(CENTRE))


async def test_today_in_the_afternoon_is_not_past_due_on_my_way(world: World) -> None:
    """Placed for "today" at 17:30 Shanghai (the clock's start): the agreed time is 20:30, not this
    morning's 09:00, so "On my way" brings no overdue nudge; one is due an hour after 20:30."""
    number = await world.accepted(when="2026-01-15")  # today, as the Today button writes it
    order = await world.status(number)
    assert order.appointment_at == dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)  # 20:30 Shanghai
    await world.call(VOLUNTEER, claim.on_my_way, number)
    await world.sweep_at(1)
    assert not any("is past its time" in t for t in await world.texts(VOLUNTEER))
    async with world.uow_factory() as uow:
        due = await uow.session.scalars(select(ScheduledItem.due_at).where(
            ScheduledItem.order_id == number, ScheduledItem.kind == "overdue", ScheduledItem.state == "pending"))
        assert list(due) == [dt.datetime(2026, 1, 15, 13, 30, tzinfo=dt.UTC)]


async def test_after_an_outage_one_nudge_not_one_per_missed_interval(world: World) -> None:
    number = await world.accepted(when="2026-01-15 18:00")  # 10:00 UTC; overdue from 11:00 UTC
    await world.call(VOLUNTEER, claim.on_my_way, number)
    await world.sweep_at(95)  # 11:05 UTC = 19:05 Shanghai: the first nudge
    assert sum("is past its time" in t for t in await world.texts(VOLUNTEER)) == 1
    world.clock.advance(24 * 3600)  # the bot is down for a day: 24 nudges were due
    await world.sweeper.sweep()
    await world.sweeper.sweep()
    assert sum("is past its time" in t for t in await world.texts(VOLUNTEER)) == 2
    pending = [(k, s) for k, s, state, _ in await world.items(number) if state == "pending"]
    assert pending == [("overdue", 3)]


async def test_the_rating_chase_reminds_twice_then_records_no_response(world: World) -> None:
    number = await world.accepted()
    await world.call(VOLUNTEER, claim.done, number)
    await world.sweep_at(24 * 60)
    await world.sweep_at(48 * 60)
    assert sum("please rate request" in t for t in await world.texts(RESIDENT)) == 2
    await world.sweep_at(96 * 60)
    order = await world.status(number)
    assert (order.status, order.no_response) == ("closed", True)


async def test_rating_stops_the_chase(world: World) -> None:
    number = await world.accepted()
    await world.call(VOLUNTEER, claim.done, number)
    await world.call(RESIDENT, rating.rate, number, 5)
    await world.sweep_at(200 * 60)
    assert not any("please rate request" in t for t in await world.texts(RESIDENT))
    assert not (await world.status(number)).no_response


async def test_an_overtaken_ladder_step_is_skipped_and_recorded_not_sent_late(world: World) -> None:
    number = await world.accepted()
    await world.call(VOLUNTEER, claim.done, number)
    world.clock.advance(100 * 3600)  # down for 100 hours: reminders 1 and 2 both due
    await world.sweeper.sweep()
    items = [(k, s, state, r) for k, s, state, r in await world.items(number) if k == "rating"]
    assert items[0] == ("rating", 1, "skipped", "overtaken by step 2")
    assert items[1][:3] == ("rating", 2, "done")
    assert sum("please rate request" in t for t in await world.texts(RESIDENT)) == 1


async def test_quiet_hours_hold_reminders_until_morning_but_not_emergencies(world: World) -> None:
    world.clock.now = dt.datetime(2026, 1, 15, 14, 0, tzinfo=dt.UTC)  # 22:00 in Shanghai
    calm = await world.accepted()
    urgent = await world.accepted(urgent=True)
    await world.sweep_at(20)  # the emergency's lease ends at 22:20: asked at once
    assert sum(f"request #{urgent}" in t and "still on it" in t for t in await world.texts(VOLUNTEER)) == 1
    await world.sweep_at(100)  # 00:00: the calm order's lease is due, but it is night
    assert not any(f"request #{calm}" in t and "still on it" in t for t in await world.texts(VOLUNTEER))
    lease = [i for i in await world.items(calm) if i[0] == "lease"]
    assert lease == [("lease", 0, "pending", None)]
    world.clock.now = dt.datetime(2026, 1, 14, 23, 0, tzinfo=dt.UTC) + dt.timedelta(days=1)  # 07:00
    await world.sweeper.sweep()
    assert sum(f"request #{calm}" in t and "still on it" in t for t in await world.texts(VOLUNTEER)) == 1


async def test_cancelling_or_rejecting_cancels_everything_pending(world: World) -> None:
    number = await world.dispatched()
    await world.call(RESIDENT, request.cancel, number)
    assert {state for _, _, state, _ in await world.items(number)} == {"cancelled"}


def test_an_agreed_time_is_read_from_the_request_time() -> None:
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    early = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)  # 20:00 the evening before, in Shanghai
    assert timetable.appointment_of("2026-11-30", shanghai, early) == dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
    assert timetable.appointment_of("2026-11-30 14:30", shanghai, early) == \
        dt.datetime(2026, 11, 30, 6, 30, tzinfo=dt.UTC)
    assert timetable.appointment_of("Saturday 9:00", shanghai, early) is None
    assert timetable.appointment_of("2026-13-40", shanghai, early) is None


@pytest.mark.parametrize(("placed", "expected"), [
    ("05:00", "09:00"),  # placed early: the day starts at 09:00
    ("06:00", "09:00"),
    ("07:30", "10:30"),  # three hours from placing, not 09:00 already close
    ("14:30", "17:30"),  # "today" in the afternoon: not past due at once
    ("22:00", "23:59"),  # late: still that day
])
def test_a_day_without_an_hour_is_never_past_due_when_placed(placed: str, expected: str) -> None:
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    placed_at = dt.datetime.combine(dt.date(2026, 11, 30), dt.time.fromisoformat(placed), tzinfo=shanghai)
    appointment = timetable.appointment_of("2026-11-30", shanghai, placed_at)
    assert appointment is not None and appointment > placed_at
    assert appointment.astimezone(shanghai).strftime("%H:%M") == expected
    # A day later still means that day's 09:00.
    assert timetable.appointment_of("2026-12-01", shanghai, placed_at) == \
        dt.datetime(2026, 12, 1, 9, 0, tzinfo=shanghai).astimezone(dt.UTC)
