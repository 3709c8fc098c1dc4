"""Attendance rows (storage.attendance) on SQLite and PostgreSQL: every change is a conditional
UPDATE whose row count decides — a second check-in, concurrent check-ins of one person, a check-out
racing the end — and the no-shows are marked in one statement."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import NamedTuple

from sqlalchemy import select

from storage.models import Activity, ActivitySignup
from tests.support.activities import add_activity, sign_up
from tests.support.dbfixtures import FakeClock, UowFactory


async def a_day(uow_factory: UowFactory, clock: FakeClock, people: int = 4) -> tuple[int, list[int]]:
    """An activity starting now with ``people`` places taken; (its id, the users' ids)."""
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        users = [await uow.users.ensure(100 + i, f"p{i}") for i in range(people)]
        activity = await add_activity(uow, team.id, starts_at=clock.now)
        for user in users:
            await sign_up(uow, activity, user.id)
        await uow.commit()
        return activity.id, [u.id for u in users]


class Row(NamedTuple):
    status: str
    attendance: str
    checked_in_at: dt.datetime | None
    marked_by: int | None


async def signups(uow_factory: UowFactory, activity_id: int) -> dict[int, Row]:
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)))
        return {row.user_id: Row(row.status, row.attendance, row.checked_in_at, row.marked_by) for row in rows}


async def test_a_second_check_in_is_refused_by_its_row_count(uow_factory: UowFactory, clock: FakeClock) -> None:
    activity, (ann, *_) = await a_day(uow_factory, clock)
    first = clock.now
    async with uow_factory() as uow:
        assert await uow.attendance.check_in(activity, ann, first)
        await uow.commit()
    clock.advance(600)
    async with uow_factory() as uow:
        assert not await uow.attendance.check_in(activity, ann, clock.now)
        await uow.commit()
    row = (await signups(uow_factory, activity))[ann]
    assert (row.attendance, row.checked_in_at, row.marked_by) == ("present", first, None)


async def test_concurrent_check_ins_of_one_person_make_one(uow_factory: UowFactory, clock: FakeClock) -> None:
    activity, (ann, *_) = await a_day(uow_factory, clock)

    async def scan() -> bool:
        async with uow_factory() as uow:
            won = await uow.attendance.check_in(activity, ann, clock.now)
            await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
            await uow.commit()
            return won

    assert sorted(await asyncio.gather(*(scan() for _ in range(4)))) == [False, False, False, True]


async def test_only_a_place_checks_in_and_only_a_check_in_checks_out(uow_factory: UowFactory,
                                                                     clock: FakeClock) -> None:
    activity, (ann, bob, *_) = await a_day(uow_factory, clock)
    async with uow_factory() as uow:
        waiting = await uow.users.ensure(200, "w")
        row = await uow.activities.get(activity)
        assert row is not None
        await sign_up(uow, row, waiting.id, "waitlist")
        assert not await uow.attendance.check_in(activity, waiting.id, clock.now)  # a code alone gives no place
        assert not await uow.attendance.check_out(activity, bob, clock.now)  # never checked in
        assert await uow.attendance.check_in(activity, ann, clock.now)
        assert await uow.attendance.check_out(activity, ann, clock.now + dt.timedelta(hours=1))
        assert not await uow.attendance.check_out(activity, ann, clock.now + dt.timedelta(hours=2))  # once
        # The leader lets the waiting person in: the place and the presence, and the count follows.
        assert await uow.attendance.admit(activity, waiting.id, clock.now, marked_by=ann)
        assert not await uow.attendance.admit(activity, waiting.id, clock.now, marked_by=ann)
        await uow.commit()
    rows = await signups(uow_factory, activity)
    assert (rows[waiting.id].status, rows[waiting.id].attendance, rows[waiting.id].marked_by) == ("in", "present", ann)
    async with uow_factory() as uow:
        assert (await uow.session.scalar(select(Activity.taken).where(Activity.id == activity))) == 5


async def test_no_shows_in_one_update_and_never_over_a_presence(uow_factory: UowFactory, clock: FakeClock) -> None:
    activity, (ann, bob, cat, dan) = await a_day(uow_factory, clock)
    async with uow_factory() as uow:
        assert await uow.attendance.check_in(activity, ann, clock.now)
        assert await uow.attendance.check_in(activity, cat, clock.now, marked_by=ann)
        assert await uow.attendance.finish(activity)
        assert not await uow.attendance.finish(activity)  # the end happens once
        assert await uow.attendance.mark_no_shows(activity) == 2
        assert await uow.attendance.mark_no_shows(activity) == 0
        # A scan that arrives after the end finds the no-show and changes nothing.
        assert not await uow.attendance.check_in(activity, bob, clock.now)
        assert [s.user_id for s in await uow.attendance.still_in(activity)] == [ann, cat]
        await uow.commit()
    rows = await signups(uow_factory, activity)
    assert {user: row.attendance for user, row in rows.items()} == {ann: "present", bob: "no_show",
                                                                    cat: "present", dan: "no_show"}
    assert rows[cat].marked_by == ann and rows[bob].checked_in_at is None


async def test_the_activities_one_may_check_in_at_now(uow_factory: UowFactory, clock: FakeClock) -> None:
    activity, (ann, bob, *_) = await a_day(uow_factory, clock)
    async with uow_factory() as uow:
        other = await uow.teams.add("food", "Food", ["delivery"])
        later = await add_activity(uow, other.id, starts_at=clock.now + dt.timedelta(days=3), code="LATER1")
        await sign_up(uow, later, ann)
        opens = dt.timedelta(minutes=30)
        assert [a.id for a in await uow.attendance.open_for(ann, clock.now, opens)] == [activity]
        assert [a.id for a in await uow.attendance.current(clock.now, dt.timedelta(days=1))] == [activity]
        assert [a.id for a in await uow.attendance.current(clock.now, dt.timedelta(days=5), team_ids=[other.id])] \
            == [later.id]
        assert await uow.attendance.current(clock.now + dt.timedelta(hours=2), dt.timedelta(days=1)) == []
        roll = await uow.attendance.roll(activity)
        assert [(a.signup.status, a.user.id) for a in roll][:2] == [("in", ann), ("in", bob)]
