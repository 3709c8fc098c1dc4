"""Teams' activities and their sign-ups (see :class:`storage.models.Activity`). Places are won by a
conditional UPDATE of ``activities.taken`` and its row count, never by counting rows in Python.

Every change to an activity's places first writes the activity's row (the place itself, or a no-op
"touch" for a waitlist turn), so the database holds that row's lock until commit: sign-ups and
cancellations of one activity commit one at a time, in the order they took that lock. A sign-up
row gets its id (and ``updated_at``) while holding it, so **tap order** — the order the database
took the taps, which is the order they committed — is ``(updated_at, id)`` order: the waitlist's.
Both backends: PostgreSQL by the row lock, SQLite by its one writer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import func, select, update

from storage.errors import taken_if_not_unique
from storage.models import Activity, ActivitySignup, ScheduledItem
from storage.repositories import _Repository

Outcome = Literal["in", "waitlist", "already_in", "already_waitlist", "closed"]
Freed = Literal["in", "waitlist", "none"]


class ActivityRepository(_Repository):
    async def get(self, activity_id: int) -> Activity | None:
        return await self.session.get(Activity, activity_id, populate_existing=True)

    async def by_code(self, code: str) -> Activity | None:
        return await self.session.scalar(select(Activity).where(Activity.code == code.upper()))

    async def add(self, **fields: Any) -> Activity:
        """A new open activity; :class:`AlreadyTaken` when its ``code`` is taken (the caller draws another)."""
        now = self.clock()
        activity = Activity(**{"status": "open", "taken": 0, "also_teams": [], "cards": {}, "created_at": now,
                               "updated_at": now, **fields})
        async with self.session.begin_nested():
            self.session.add(activity)
            with taken_if_not_unique():
                await self.session.flush()
        return activity

    # -- places ------------------------------------------------------------------------------------------
    async def _lock(self, activity_id: int) -> bool:
        """Take the open activity's row lock (a no-op write); False when it is not open."""
        return await self._rowcount(update(Activity).where(Activity.id == activity_id, Activity.status == "open")
                                    .values(updated_at=Activity.updated_at)) > 0

    async def _take_place(self, activity_id: int) -> bool:
        return await self._rowcount(
            update(Activity).where(Activity.id == activity_id, Activity.status == "open",
                                   Activity.taken < Activity.capacity)
            .values(taken=Activity.taken + 1, updated_at=self.clock())) > 0

    async def _give_back_place(self, activity_id: int) -> None:
        await self.session.execute(update(Activity).where(Activity.id == activity_id, Activity.taken > 0)
                                   .values(taken=Activity.taken - 1, updated_at=self.clock()))

    async def sign_up(self, activity_id: int, user_id: int) -> Outcome:
        """Sign ``user_id`` up: a place while there is one (``in``), else a turn on the waitlist; a
        person already in or waiting stays so; ``closed`` when the activity is not open."""
        if not await self._lock(activity_id):
            return "closed"
        current = await self.session.scalar(select(ActivitySignup.status).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id))
        if current in ("in", "waitlist"):
            return "already_in" if current == "in" else "already_waitlist"
        status: Outcome = "in" if await self._take_place(activity_id) else "waitlist"
        now = self.clock()
        if current is None:
            inserted = await self._rowcount(
                self._insert(ActivitySignup).values(activity_id=activity_id, user_id=user_id, status=status,
                                                    attendance="", created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["activity_id", "user_id"]))
        else:  # back after cancelling: the same row, at the end of the queue
            inserted = await self._rowcount(
                update(ActivitySignup).where(ActivitySignup.activity_id == activity_id,
                                             ActivitySignup.user_id == user_id, ActivitySignup.status == "cancelled")
                .values(status=status, updated_at=now))
        if not inserted:  # the same person's other tap won meanwhile (cannot happen under the lock)
            if status == "in":
                await self._give_back_place(activity_id)
            return "already_in"
        return status

    async def withdraw(self, activity_id: int, user_id: int) -> Freed:
        """The person cancels their own sign-up: which one it was (``none``: nothing to cancel). A freed
        place is given back; :meth:`promote` fills it."""
        await self._lock(activity_id)
        for status in ("in", "waitlist"):
            if await self._rowcount(
                    update(ActivitySignup).where(ActivitySignup.activity_id == activity_id,
                                                 ActivitySignup.user_id == user_id, ActivitySignup.status == status)
                    .values(status="cancelled", updated_at=self.clock())):
                if status == "in":
                    await self._give_back_place(activity_id)
                return status
        return "none"

    async def promote(self, activity_id: int) -> list[int]:
        """Give free places to the head of the waitlist, one by one while places are free: the user ids
        promoted, in turn order."""
        promoted: list[int] = []
        while True:
            head = (await self.session.execute(
                select(ActivitySignup.id, ActivitySignup.user_id)
                .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == "waitlist")
                .order_by(ActivitySignup.updated_at, ActivitySignup.id).limit(1))).first()
            if head is None or not await self._take_place(activity_id):
                return promoted
            if await self._rowcount(update(ActivitySignup).where(ActivitySignup.id == head.id,
                                                                 ActivitySignup.status == "waitlist")
                                    .values(status="in", updated_at=self.clock())):
                promoted.append(head.user_id)
            else:
                await self._give_back_place(activity_id)

    # -- the leader's changes ------------------------------------------------------------------------
    async def cancel(self, activity_id: int) -> bool:
        """Cancel an open activity; False when it was not open."""
        return await self._rowcount(update(Activity).where(Activity.id == activity_id, Activity.status == "open")
                                    .values(status="cancelled", updated_at=self.clock())) > 0

    async def change(self, activity_id: int, **values: Any) -> bool:
        """Change an open activity's time or place; False when it was not open."""
        return await self._rowcount(update(Activity).where(Activity.id == activity_id, Activity.status == "open")
                                    .values(updated_at=self.clock(), **values)) > 0

    async def set_capacity(self, activity_id: int, capacity: int) -> bool:
        """A new number of places, never below the places already held; False when refused."""
        return await self._rowcount(
            update(Activity).where(Activity.id == activity_id, Activity.status == "open", Activity.taken <= capacity)
            .values(capacity=capacity, updated_at=self.clock())) > 0

    # -- lists ------------------------------------------------------------------------------------------
    async def signups(self, activity_id: int, statuses: Iterable[str] = ("in", "waitlist")) -> Sequence[ActivitySignup]:
        """Sign-ups of these statuses in turn order."""
        return (await self.session.scalars(
            select(ActivitySignup).where(ActivitySignup.activity_id == activity_id,
                                         ActivitySignup.status.in_(list(statuses)))
            .order_by(ActivitySignup.updated_at, ActivitySignup.id))).all()

    async def signup_of(self, activity_id: int, user_id: int) -> ActivitySignup | None:
        return await self.session.scalar(select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id))

    async def waiting(self, activity_id: int) -> int:
        """How many wait for a place."""
        return int(await self.session.scalar(
            select(func.count()).select_from(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == "waitlist")) or 0)

    async def of_user(self, user_id: int, after: dt.datetime, limit: int = 20) -> Sequence[tuple[Activity, str]]:
        """The person's open activities still to start, with their sign-up status, soonest first."""
        rows = await self.session.execute(
            select(Activity, ActivitySignup.status).join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .where(ActivitySignup.user_id == user_id, ActivitySignup.status.in_(("in", "waitlist")),
                   Activity.status == "open", Activity.starts_at > after)
            .order_by(Activity.starts_at, Activity.id).limit(limit))
        return [(activity, status) for activity, status in rows.all()]

    async def upcoming(self, team_ids: Collection[int] | None, after: dt.datetime,
                       limit: int = 20) -> Sequence[Activity]:
        """Open activities still to start, of these teams (None: every team), soonest first."""
        statement = select(Activity).where(Activity.status == "open", Activity.starts_at > after)
        if team_ids is not None:
            statement = statement.where(Activity.team_id.in_(list(team_ids)))
        return (await self.session.scalars(statement.order_by(Activity.starts_at, Activity.id).limit(limit))).all()

    async def count_by_team(self, start: dt.datetime, end: dt.datetime) -> dict[int, int]:
        """Activities starting in ``[start, end)`` and not cancelled, per team (the monthly quota)."""
        rows = await self.session.execute(
            select(Activity.team_id, func.count()).where(Activity.starts_at >= start, Activity.starts_at < end,
                                                         Activity.status != "cancelled")
            .group_by(Activity.team_id))
        return {team_id: count for team_id, count in rows.all()}

    async def cancel_reminders(self, activity_id: int, user_id: int, kinds: Iterable[str]) -> int:
        """Cancel one person's pending items about an activity (they gave up their place)."""
        return await self._rowcount(
            update(ScheduledItem).where(ScheduledItem.activity_id == activity_id, ScheduledItem.user_id == user_id,
                                        ScheduledItem.state == "pending", ScheduledItem.kind.in_(list(kinds)))
            .values(state="cancelled", fired_at=self.clock()))
