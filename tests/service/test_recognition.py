"""Recognition (典型推介) as the services keep it (sqlite, and postgresql with TEST_DATABASE_URL).

A known November in Asia/Shanghai: team 维修队 (Anna, Bo, Cao) and the one-member team 关爱队 (Dai).
The monthly item, swept on 1 December after the monthly report, proposes Anna and Dai as their
teams' stars and 关爱队 as the five-star team (per member it leads) — and posts nothing until a
coordinator approves. Approving posts once (a double tap, even at the same moment, posts once;
the audit trail has the one approval), skipping posts nothing, a volunteer cannot decide, and the
item runs once however often it is swept."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.context import Deps
from bot.domain.errors import Conflict, NotAllowed
from bot.services import recognition
from bot.services.schedule.sweep import Sweeper
from bot.settings import Settings
from storage.models import Activity, ActivitySignup, Nomination, OrderEvent, OutboxMessage, ScheduledItem, Volunteer
from storage.uow import UnitOfWork
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CENTRE, REPAIR_CHAT, CARE_CHAT = -100_500, -801, -802
COCO, ANNA, BO, CAO, DAI, RITA = 9001, 9002, 9003, 9004, 9005, 9006
NAMES = {COCO: "Coco", ANNA: "Anna", BO: "Bo", CAO: "Cao", DAI: "Dai", RITA: "Rita"}
RUN_AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)  # after the report (08:00) and its hour


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


class World:
    def __init__(self, deps: Deps, clock: FakeClock) -> None:
        self.deps, self.clock = deps, clock
        self.ids: dict[int, int] = {}  # telegram id → user id
        self.teams: dict[str, int] = {}

    async def act(self, telegram_id: int, service: Any, *args: Any) -> Any:
        async with self.deps.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            assert user is not None
            return await service(self.deps.service_context(uow, user), *args)

    async def rows(self, statement: Any) -> list[Any]:
        async with self.deps.uow() as uow:
            found = list(await uow.session.scalars(statement))
            await uow.commit()
            return found

    async def nominations(self) -> dict[tuple[str, int], Nomination]:
        return {(n.kind, n.team_id): n for n in await self.rows(select(Nomination).order_by(Nomination.id))}

    async def outbox(self, chat_id: int | None = None) -> list[OutboxMessage]:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            statement = statement.where(OutboxMessage.chat_id == chat_id)
        return await self.rows(statement)

    async def sweep(self) -> None:
        await Sweeper(self.deps, recognition.HANDLERS).sweep()


async def served(uow: UnitOfWork, world: World, who: int, team: str, done: dt.datetime, *, response: int,
                 stars: int | None = None, status: str = "closed", reopened: bool = False,
                 duration: int = 60) -> None:
    """One round served: offered ``response`` minutes before the accept, done ``duration`` later,
    with its ledger entry and its rating."""
    accepted = done - dt.timedelta(minutes=duration)
    user, team_id = world.ids[who], world.teams[team]
    order = await uow.orders.add(resident_id=world.ids[RITA], status="new" if reopened else status,
                                 category="repair", community="东湖社区", when_text="today", contact_name="Rita",
                                 contact_phone="+8613800000001", round=2 if reopened else 1,
                                 team_id=None if reopened else team_id, volunteer_id=None if reopened else user)
    for event, at in (("dispatched", accepted - dt.timedelta(minutes=response)), ("accepted", accepted),
                      ("done", done)):
        uow.session.add(OrderEvent(order_id=order.id, actor_id=user if event != "dispatched" else None, event=event,
                                   detail={}, created_at=at))
    await uow.ledger.add(user, "order", duration, accepted, ended_at=done, team_id=team_id, order_id=order.id, round=1)
    if stars is not None:
        await uow.ratings.add(order.id, 1, world.ids[RITA], stars=stars, solved=stars > 0)


async def activity(uow: UnitOfWork, world: World, team: str, starts: dt.datetime, present: list[int],
                   absent: tuple[int, ...] = ()) -> None:
    row = Activity(team_id=world.teams[team], title="义务维修", place="活动室", starts_at=starts,
                   ends_at=starts + dt.timedelta(hours=2), capacity=10, taken=len(present) + len(absent),
                   signup_deadline=starts, status="finished", code=f"C{starts:%d%H}{world.teams[team]}",
                   also_teams=[], cards={}, created_at=starts, updated_at=starts)
    uow.session.add(row)
    await uow.session.flush()
    for who in [*present, *absent]:
        uow.session.add(ActivitySignup(activity_id=row.id, user_id=world.ids[who], status="in",
                                       attendance="present" if who in present else "no_show",
                                       created_at=starts, updated_at=starts))
        if who in present:
            await uow.ledger.add(world.ids[who], "activity", 120, starts, ended_at=starts + dt.timedelta(hours=2),
                                 team_id=world.teams[team], activity_id=row.id)


@pytest.fixture
async def world(engine: AsyncEngine, database_url: str, clock: FakeClock) -> World:
    clock.now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    deps = make_deps(Settings(database={"url": database_url}, coordinators_chat_id=CENTRE), engine, clock)
    w = World(deps, clock)
    async with deps.uow() as uow:
        for telegram_id, name in NAMES.items():
            user = await uow.users.ensure(telegram_id, name, "en")
            user.is_coordinator = telegram_id == COCO
            w.ids[telegram_id] = user.id
        for code, name, chat, members in (("repair", "维修队", REPAIR_CHAT, (ANNA, BO, CAO)),
                                          ("care", "关爱队", CARE_CHAT, (DAI,))):
            team = await uow.teams.add(code, name, ["repair"])
            team.chat_id = chat
            w.teams[code] = team.id
            for who in members:
                uow.session.add(Volunteer(user_id=w.ids[who], team_id=team.id, name=f"{NAMES[who]} Li",
                                          phone="+8613800000000", status="approved", is_leader=who == CAO,
                                          created_at=clock()))
        await uow.flush()
        assert await recognition.schedule_next(uow, deps.config, clock())  # as start-up does
        # Anna: three closed rounds rated 5, 5, 4, each taken 10 minutes after dispatch.
        for day, stars in ((5, 5), (6, 5), (7, 4)):
            await served(uow, w, ANNA, "repair", local(day, 10), response=10, stars=stars)
        # … and two just outside the local month (October 31st late, December 1st early).
        await served(uow, w, ANNA, "repair", local(31, 23, month=10), response=10, stars=5, duration=30)
        await served(uow, w, ANNA, "repair", local(1, 0, 40, month=12), response=10, stars=5, duration=20)
        # Bo: rated 3 (not satisfied), one not rated yet, one rated 2 and reopened (not completed); 45 minutes each.
        await served(uow, w, BO, "repair", local(10, 15), response=45, stars=3)
        await served(uow, w, BO, "repair", local(11, 15), response=45, status="done")
        await served(uow, w, BO, "repair", local(12, 15), response=45, stars=2, reopened=True)
        # Dai, alone in 关爱队: two rounds rated 5, taken within 5 minutes.
        for day in (8, 9):
            await served(uow, w, DAI, "care", local(day, 9), response=5, stars=5)
        await activity(uow, w, "repair", local(15, 10), present=[ANNA, BO], absent=(CAO,))
        await activity(uow, w, "repair", local(20, 10), present=[BO])
        await activity(uow, w, "care", local(16, 10), present=[DAI])
        await uow.ledger.add(w.ids[BO], "honour", 100 * 60, local(20, 12), team_id=w.teams["repair"], reason="防汛")
        await uow.commit()
    clock.now = RUN_AT.astimezone(dt.UTC)
    return w


async def test_a_known_month_proposes_the_right_stars_and_team_and_posts_nothing(world: World) -> None:
    await world.sweep()
    found = await world.nominations()
    repair, care = world.teams["repair"], world.teams["care"]
    assert set(found) == {("star", repair), ("star", care), ("team", care)}
    anna, dai, five = found["star", repair], found["star", care], found["team", care]
    assert (anna.user_id, dai.user_id, five.user_id) == (world.ids[ANNA], world.ids[DAI], None)
    assert {n.month for n in found.values()} == {"2026-11"} and {n.status for n in found.values()} == {"proposed"}
    # Anna: 3 completed (not October's nor December's), 1 activity, 3 of 3 satisfied, median 10 min, 3 h + 2 h.
    # Score: 0.4·3/3 + 0.2·1/2 + 0.25·4/5 + 0.15·60/70 = 0.82857…
    assert {k: anna.figures[k] for k in ("orders", "activities", "satisfied", "rated", "unrated",
                                         "median_response", "minutes")} == {
        "orders": 3, "activities": 1, "satisfied": 3, "rated": 3, "unrated": 0, "median_response": 10.0,
        "minutes": 300}
    assert anna.score == 82.9
    # 关爱队 per member: 2 orders, 1 activity, 2 of 2, 5 min: 0.4 + 0.2 + 0.25·3/4 + 0.15·60/65 = 0.92596…
    # 维修队 per member: 5/3 orders, 1 activity, 3 of 5 rated satisfied, median 27.5 min: 0.7791…
    assert (five.figures["orders"], five.figures["members"], five.score) == (2, 1, 92.6)
    # Nothing posted: the centre has the heading and a card each with both buttons; teams and stars nothing.
    centre = await world.outbox(CENTRE)
    assert len(centre) == 4
    cards = [m for m in centre if m.payload.get("reply_markup")]
    assert {b["callback_data"] for m in cards for b in m.payload["reply_markup"]["inline_keyboard"][0]} == {
        f"{action}:{n.id}" for n in found.values() for action in ("nmok", "nmno")}
    assert "Anna Li" in " ".join(m.payload["text"] for m in cards)
    assert all("138" not in m.payload["text"] for m in centre)
    for chat in (REPAIR_CHAT, CARE_CHAT, ANNA, DAI):
        assert await world.outbox(chat) == []


async def test_the_monthly_item_runs_once(world: World) -> None:
    await asyncio.gather(world.sweep(), world.sweep())  # two processes sweeping at once
    await world.sweep()
    world.clock.advance(3600)
    await world.sweep()
    assert len(await world.nominations()) == 3
    assert len(await world.outbox(CENTRE)) == 4
    items = await world.rows(select(ScheduledItem).where(ScheduledItem.kind == recognition.KIND)
                             .order_by(ScheduledItem.id))
    assert [(i.key, i.state) for i in items] == [("recognition:2026-12-01", "done"),
                                                  ("recognition:2027-01-01", "pending")]
    assert items[0].result == "2026-11: 3 nominations"
    async with world.deps.uow() as uow:  # a restart: nothing new to schedule
        assert not await recognition.schedule_next(uow, world.deps.config, uow.now())


async def test_approving_posts_once_and_the_audit_trail_has_it(world: World) -> None:
    await world.sweep()
    anna = (await world.nominations())["star", world.teams["repair"]]
    answer = await world.act(COCO, recognition.approve, anna.id)
    assert answer == "Approved: posted to the team."
    with pytest.raises(Conflict):
        await world.act(COCO, recognition.approve, anna.id)  # the double tap
    with pytest.raises(Conflict):
        await world.act(COCO, recognition.skip, anna.id)
    announced = await world.outbox(REPAIR_CHAT)
    assert len(announced) == 1 and "Anna Li" in announced[0].payload["text"]
    assert "138" not in announced[0].payload["text"]
    notes = await world.outbox(ANNA)
    assert len(notes) == 1 and notes[0].payload["method"] == "sendPhoto"
    assert notes[0].payload["attachment"] == {
        "kind": "star", "name": "Anna Li", "team": "维修队", "month": "2026-11", "hours": 5.0, "services": 4,
        "satisfied": 3, "rated": 3, "language": "en", "field": "photo"}
    assert await world.outbox(CARE_CHAT) == [] and await world.outbox(DAI) == []
    posted = (await world.nominations())["star", world.teams["repair"]]
    assert (posted.status, posted.decided_by) == ("posted", world.ids[COCO])
    async with world.deps.uow() as uow:
        events = await uow.audit.of_subject(recognition.SUBJECT, anna.id)
        assert [(e.event, e.actor_id) for e in events] == [("approved", world.ids[COCO])]
        assert events[0].detail == {"month": "2026-11", "kind": "star", "team": world.teams["repair"],
                                    "user": world.ids[ANNA]}
    # The coordinators' card (in the centre group's language) now says who approved it, with no buttons left.
    edits = [m for m in await world.outbox(CENTRE) if m.kind == "edit"]
    assert len(edits) == 1 and "✅ 已由Coco同意发布" in edits[0].payload["text"]
    assert edits[0].payload["reply_markup"] is None


async def test_two_taps_at_the_same_moment_post_once(world: World) -> None:
    await world.sweep()
    five = (await world.nominations())["team", world.teams["care"]]
    results = await asyncio.gather(*(world.act(COCO, recognition.approve, five.id) for _ in range(2)),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"]
    announced = await world.outbox(CARE_CHAT)
    assert len(announced) == 1 and "关爱队" in announced[0].payload["text"]
    async with world.deps.uow() as uow:
        assert len(await uow.audit.of_subject(recognition.SUBJECT, five.id)) == 1


async def test_skipping_posts_nothing(world: World) -> None:
    await world.sweep()
    dai = (await world.nominations())["star", world.teams["care"]]
    assert await world.act(COCO, recognition.skip, dai.id) == "Skipped: nothing is posted."
    with pytest.raises(Conflict):
        await world.act(COCO, recognition.approve, dai.id)
    assert await world.outbox(CARE_CHAT) == [] and await world.outbox(DAI) == []
    assert (await world.nominations())["star", world.teams["care"]].status == "rejected"
    async with world.deps.uow() as uow:
        assert [e.event for e in await uow.audit.of_subject(recognition.SUBJECT, dai.id)] == ["rejected"]


async def test_only_a_coordinator_decides_or_sees_the_nominations(world: World) -> None:
    await world.sweep()
    anna = (await world.nominations())["star", world.teams["repair"]]
    for who in (ANNA, CAO):  # the star herself, a team leader
        with pytest.raises(NotAllowed):
            await world.act(who, recognition.approve, anna.id)
        with pytest.raises(NotAllowed):
            await world.act(who, recognition.skip, anna.id)
        with pytest.raises(NotAllowed):
            await world.act(who, recognition.show)
    assert (await world.nominations())["star", world.teams["repair"]].status == "proposed"
    assert await world.outbox(REPAIR_CHAT) == []


async def test_stars_shows_the_latest_month_again(world: World) -> None:
    await world.act(COCO, recognition.show)
    assert "No nominations yet" in (await world.outbox(COCO))[-1].payload["text"]
    await world.sweep()
    anna = (await world.nominations())["star", world.teams["repair"]]
    await world.act(COCO, recognition.approve, anna.id)
    before = len(await world.outbox(COCO))
    await world.act(COCO, recognition.show)
    shown = (await world.outbox(COCO))[before:]
    assert len(shown) == 4  # the heading and three cards
    decided = [m for m in shown if "Anna Li" in m.payload["text"]]
    assert len(decided) == 1 and "reply_markup" not in decided[0].payload  # decided: no buttons
    assert sum(1 for m in shown if m.payload.get("reply_markup")) == 2
    # Its card shown again is edited too when another nomination is decided.
    dai = (await world.nominations())["star", world.teams["care"]]
    await world.act(COCO, recognition.skip, dai.id)
    edits = [m for m in await world.outbox() if m.kind == "edit" and "Dai Li" in m.payload["text"]]
    assert sorted(m.chat_id for m in edits) == [CENTRE, COCO]  # the centre's card and the one /stars showed
    assert "✖️ Skipped by Coco" in next(m for m in edits if m.chat_id == COCO).payload["text"]
