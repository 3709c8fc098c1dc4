"""Who came to an activity: check-in and check-out on site, presence marked by hand, no-shows
(see :class:`storage.models.ActivitySignup`).

Every change is one conditional ``UPDATE … WHERE`` whose row count says whether it happened: a
second check-in, a check-out racing the automatic one at the end, a hand mark racing the person's
own scan — exactly one wins, the other is told so by its caller. Only a place (``status = 'in'``)
can be checked in: a code alone never gives a place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select, update

from storage.models import Activity, ActivitySignup, User
from storage.repositories import _Repository

IN, WAITLIST = "in", "waitlist"
PRESENT, NO_SHOW = "present", "no_show"


class Attendee(NamedTuple):
    """One line of an activity's attendance list."""

    signup: ActivitySignup
    user: User


class AttendanceRepository(_Repository):
    async def signup(self, activity_id: int, user_id: int) -> ActivitySignup | None:
        return await self.session.scalar(select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id))

    async def get(self, signup_id: int) -> ActivitySignup | None:
        return await self.session.get(ActivitySignup, signup_id)

    async def reread(self, signup: ActivitySignup) -> ActivitySignup:
        """``signup`` as the database has it now (after a conditional UPDATE by anyone)."""
        await self.session.refresh(signup)
        return signup

    async def check_in(self, activity_id: int, user_id: int, at: dt.datetime, *,
                       marked_by: int | None = None) -> bool:
        """Present from ``at``: only a place (``in``) not checked in yet and not a no-show (False
        otherwise: already in, no place, or the end came first). ``marked_by``: a leader's hand."""
        return await self._rowcount(
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id,
                   ActivitySignup.status == IN, ActivitySignup.checked_in_at.is_(None),
                   ActivitySignup.attendance == "")
            .values(attendance=PRESENT, checked_in_at=at, marked_by=marked_by, updated_at=self.clock())) == 1

    async def admit(self, activity_id: int, user_id: int, at: dt.datetime, *, marked_by: int) -> bool:
        """A leader lets someone from the waiting list in on site: the place and the presence at
        once (the activity's ``taken`` follows, even past its capacity: the leader's call)."""
        admitted = await self._rowcount(
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id,
                   ActivitySignup.status == WAITLIST)
            .values(status=IN, attendance=PRESENT, checked_in_at=at, marked_by=marked_by,
                    updated_at=self.clock())) == 1
        if admitted:
            await self.session.execute(update(Activity).where(Activity.id == activity_id)
                                       .values(taken=Activity.taken + 1, updated_at=self.clock()))
        return admitted

    async def check_out(self, activity_id: int, user_id: int, at: dt.datetime) -> bool:
        """Left at ``at``: only someone checked in and not out yet (False otherwise)."""
        return await self._rowcount(
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id,
                   ActivitySignup.checked_in_at.is_not(None), ActivitySignup.checked_out_at.is_(None))
            .values(checked_out_at=at, updated_at=self.clock())) == 1

    async def still_in(self, activity_id: int) -> Sequence[ActivitySignup]:
        """Those checked in and not out yet (each is then checked out by :meth:`check_out`)."""
        return (await self.session.scalars(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.checked_in_at.is_not(None),
                   ActivitySignup.checked_out_at.is_(None))
            .order_by(ActivitySignup.id))).all()

    async def mark_no_shows(self, activity_id: int) -> int:
        """Every place never checked in becomes a no-show, in one UPDATE; returns how many."""
        return await self._rowcount(
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == IN,
                   ActivitySignup.attendance == "", ActivitySignup.checked_in_at.is_(None))
            .values(attendance=NO_SHOW, updated_at=self.clock()))

    async def roll(self, activity_id: int) -> Sequence[Attendee]:
        """Those with a place, then the waiting list, in the order the places were taken."""
        rows = await self.session.execute(
            select(ActivitySignup, User).join(User, User.id == ActivitySignup.user_id)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_((IN, WAITLIST)))
            .order_by(ActivitySignup.status, ActivitySignup.id))
        return [Attendee(signup, user) for signup, user in rows]

    async def finish(self, activity_id: int) -> bool:
        """``open`` → ``finished``; True for the one caller that did it (it then closes the list)."""
        return await self._rowcount(
            update(Activity).where(Activity.id == activity_id, Activity.status == "open")
            .values(status="finished", updated_at=self.clock())) == 1

    async def open_ending_by(self, moment: dt.datetime, limit: int = 500) -> Sequence[Activity]:
        """Open activities ending at or before ``moment`` (also those already past their end)."""
        return (await self.session.scalars(
            select(Activity).where(Activity.status == "open", Activity.ends_at <= moment)
            .order_by(Activity.ends_at, Activity.id).limit(limit))).all()

    async def current(self, now: dt.datetime, opens_before: dt.timedelta, *, team_ids: Sequence[int] | None = None,
                      limit: int = 10) -> Sequence[Activity]:
        """Open activities a leader may run the check-in of now: not ended, starting within a day
        (or already started), soonest first; of ``team_ids`` (None: every team)."""
        statement = select(Activity).where(Activity.status == "open", Activity.ends_at > now,
                                           Activity.starts_at <= now + opens_before)
        if team_ids is not None:
            statement = statement.where(Activity.team_id.in_(list(team_ids)))
        return (await self.session.scalars(statement.order_by(Activity.starts_at, Activity.id).limit(limit))).all()

    async def open_for(self, user_id: int, now: dt.datetime, opens_before: dt.timedelta) -> Sequence[Activity]:
        """Open activities ``user_id`` holds a place at whose check-in window is open at ``now``."""
        return (await self.session.scalars(
            select(Activity).join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .where(ActivitySignup.user_id == user_id, ActivitySignup.status == IN, Activity.status == "open",
                   Activity.starts_at <= now + opens_before, Activity.ends_at > now)
            .order_by(Activity.starts_at))).all()
