"""Activities and sign-ups made straight through the repositories, for the attendance tests (the
activities room's own dialogs make them in the application)."""

from __future__ import annotations

import datetime as dt

from storage.models import Activity, ActivitySignup
from storage.uow import UnitOfWork


async def add_activity(uow: UnitOfWork, team_id: int, *, starts_at: dt.datetime,
                       length: dt.timedelta = dt.timedelta(hours=2), code: str = "K7Q2", title: str = "Repair day",
                       capacity: int = 10, created_by: int | None = None) -> Activity:
    now = uow.now()
    activity = Activity(team_id=team_id, title=title, place="Community hall", starts_at=starts_at,
                        ends_at=starts_at + length, capacity=capacity, signup_deadline=starts_at, code=code,
                        created_by=created_by, created_at=now, updated_at=now, also_teams=[], cards={})
    uow.session.add(activity)
    await uow.session.flush()
    return activity


async def sign_up(uow: UnitOfWork, activity: Activity, user_id: int, status: str = "in") -> ActivitySignup:
    """A place (``in``, counted in ``taken``) or a turn on the waiting list."""
    now = uow.now()
    signup = ActivitySignup(activity_id=activity.id, user_id=user_id, status=status, created_at=now, updated_at=now)
    uow.session.add(signup)
    if status == "in":
        activity.taken += 1
    await uow.session.flush()
    return signup
