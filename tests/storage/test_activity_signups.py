"""Sign-ups for an activity under concurrency, on SQLite and PostgreSQL: places are won by the
conditional UPDATE of ``activities.taken`` and its row count, so however many people tap at once,
no place is lost or given twice.

"Tap order" is defined as the order the sign-ups committed. Every sign-up takes the activity's row
lock first and holds it until commit, so each unit of work below notes its person *while holding
that lock* (after ``sign_up``, before ``commit``): the notes are in commit order, and the waitlist
must be in exactly that order.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from storage.models import Activity, ActivitySignup
from tests.support.dbfixtures import UowFactory

START = dt.datetime(2026, 2, 1, 1, 0, tzinfo=dt.UTC)


async def setup(uow_factory: UowFactory, people: int, capacity: int = 10) -> tuple[int, list[int]]:
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        users = [(await uow.users.ensure(1000 + n, f"V{n}")).id for n in range(people)]
        activity = await uow.activities.add(team_id=team.id, title="Repair day", place="Hall", starts_at=START,
                                            ends_at=START + dt.timedelta(hours=2), capacity=capacity,
                                            signup_deadline=START - dt.timedelta(hours=3), code="ACDE34")
        await uow.commit()
        return activity.id, users


async def state(uow_factory: UowFactory, activity_id: int) -> tuple[int, int, list[int], list[int]]:
    """(capacity, taken, the user ids in, the waitlist in turn order)."""
    async with uow_factory() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        signups = await uow.activities.signups(activity_id)
        return (activity.capacity, activity.taken, [s.user_id for s in signups if s.status == "in"],
                [s.user_id for s in signups if s.status == "waitlist"])


async def test_thirty_taps_at_once_for_ten_places(uow_factory: UowFactory) -> None:
    activity_id, users = await setup(uow_factory, 30)
    committed: list[int] = []
    outcomes: dict[int, str] = {}

    async def tap(user_id: int) -> None:
        async with uow_factory() as uow:
            outcomes[user_id] = await uow.activities.sign_up(activity_id, user_id)
            committed.append(user_id)  # still holding the activity's lock: this is commit order
            await uow.commit()

    await asyncio.gather(*(tap(user_id) for user_id in users))
    capacity, taken, placed, waitlist = await state(uow_factory, activity_id)
    assert (capacity, taken, len(placed), len(waitlist)) == (10, 10, 10, 20)
    assert sorted(outcomes.values()) == ["in"] * 10 + ["waitlist"] * 20
    assert sorted(placed + waitlist) == sorted(users)  # nobody lost, nobody twice
    assert placed == committed[:10] and waitlist == committed[10:]  # first come, first served, in tap order
    async with uow_factory() as uow:
        rows = await uow.session.scalar(select(func.count()).select_from(ActivitySignup))
    assert rows == 30


async def test_a_cancelled_place_goes_to_the_head_of_the_waitlist(uow_factory: UowFactory) -> None:
    activity_id, users = await setup(uow_factory, 4, capacity=2)
    for user_id in users:
        async with uow_factory() as uow:
            await uow.activities.sign_up(activity_id, user_id)
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.activities.sign_up(activity_id, users[0]) == "already_in"
        assert await uow.activities.sign_up(activity_id, users[3]) == "already_waitlist"
        assert await uow.activities.withdraw(activity_id, users[1]) == "in"
        assert await uow.activities.promote(activity_id) == [users[2]]
        assert await uow.activities.withdraw(activity_id, users[1]) == "none"
        await uow.commit()
    assert await state(uow_factory, activity_id) == (2, 2, [users[0], users[2]], [users[3]])
    async with uow_factory() as uow:  # back after cancelling: the same row, at the end of the queue
        assert await uow.activities.sign_up(activity_id, users[1]) == "waitlist"
        assert await uow.activities.withdraw(activity_id, users[3]) == "waitlist"
        assert await uow.activities.promote(activity_id) == []  # no place is free
        await uow.commit()
    assert await state(uow_factory, activity_id) == (2, 2, [users[0], users[2]], [users[1]])
    async with uow_factory() as uow:  # more places: the waitlist moves up at once
        assert await uow.activities.set_capacity(activity_id, 1) is False  # never below the places held
        assert await uow.activities.set_capacity(activity_id, 5) is True
        assert await uow.activities.promote(activity_id) == [users[1]]
        await uow.commit()
    assert await state(uow_factory, activity_id) == (5, 3, [users[0], users[1], users[2]], [])


async def test_a_cancelled_activity_takes_no_sign_ups(uow_factory: UowFactory) -> None:
    activity_id, users = await setup(uow_factory, 2)
    async with uow_factory() as uow:
        assert await uow.activities.cancel(activity_id) is True
        assert await uow.activities.cancel(activity_id) is False
        assert await uow.activities.sign_up(activity_id, users[0]) == "closed"
        await uow.commit()
    assert await state(uow_factory, activity_id) == (10, 0, [], [])


async def test_cancellations_and_sign_ups_at_once_never_lose_or_double_a_place(uow_factory: UowFactory) -> None:
    activity_id, users = await setup(uow_factory, 40)
    for user_id in users[:16]:  # 10 in, 6 waiting
        async with uow_factory() as uow:
            await uow.activities.sign_up(activity_id, user_id)
            await uow.commit()

    async def withdraw(user_id: int) -> None:
        async with uow_factory() as uow:
            if await uow.activities.withdraw(activity_id, user_id) == "in":
                await uow.activities.promote(activity_id)
            await uow.commit()

    async def sign_up(user_id: int) -> None:
        async with uow_factory() as uow:
            await uow.activities.sign_up(activity_id, user_id)
            await uow.commit()

    leaving = users[2:9] + users[12:14]  # 7 with a place, 2 waiting
    arriving = users[16:40]
    await asyncio.gather(*(withdraw(u) for u in leaving), *(sign_up(u) for u in arriving))
    capacity, taken, placed, waitlist = await state(uow_factory, activity_id)
    assert taken == len(placed) == capacity == 10  # the property: taken counts exactly the places held
    assert not set(placed) & set(leaving) and not set(waitlist) & set(leaving)
    assert sorted(placed + waitlist) == sorted(set(users) - set(leaving))
    assert placed[:3] == [users[0], users[1], users[9]]  # kept their places
    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(Activity.taken).where(Activity.id == activity_id))
    assert stored == 10


async def test_monthly_counts_leave_out_cancelled_activities(uow_factory: UowFactory) -> None:
    activity_id, _users = await setup(uow_factory, 0)
    async with uow_factory() as uow:
        other = await uow.activities.add(team_id=1, title="Talk", place="Hall", starts_at=START,
                                         ends_at=START + dt.timedelta(hours=1), capacity=5,
                                         signup_deadline=START, code="ACDE35")
        await uow.activities.add(team_id=1, title="Next month", place="Hall", starts_at=START + dt.timedelta(days=40),
                                 ends_at=START + dt.timedelta(days=40, hours=1), capacity=5,
                                 signup_deadline=START, code="ACDE36")
        await uow.activities.cancel(other.id)
        counts = await uow.activities.count_by_team(START - dt.timedelta(days=1), START + dt.timedelta(days=27))
    assert counts == {1: 1} and activity_id
