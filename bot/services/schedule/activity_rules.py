"""The schedule's rules about activities.

* ``activity_reminder``: one row per person with a place and per ``[activities] reminder_hours``
  (``step`` holds the hours), written when they get the place, cancelled when they give it up or
  the activity is cancelled, rewritten when its time changes (:mod:`bot.services.activities`). When
  due, it re-reads the sign-up and the activity and is skipped if either moved on; it waits for the
  person's quiet hours like every reminder to a person, and is skipped when those last past the start.
* ``activity_quota``: once a month (keyed ``activity_quota:<first of the month>``), from
  ``quota_reminder_day`` at the digest time, the leaders of each active team with fewer activities
  this month than ``per_team_per_month`` are reminded. Each occurrence schedules the next one;
  start-up schedules the first (:func:`schedule_quota`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.domain import activities as domain
from bot.i18n import N_
from bot.services.activities import QUOTA, REMINDER, activity_of, shown
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.schedule.rules import Postpone, Skipped, wait_for_quiet_hours
from storage.models import ScheduledItem
from storage.uow import UnitOfWork


async def reminder(ctx: ServiceContext, item: ScheduledItem) -> str:
    """"Tomorrow / in an hour": to one person who still has a place in an activity still on."""
    activity = await ctx.uow.activities.get(item.activity_id or 0)
    if activity is None or activity.status != domain.OPEN:
        raise Skipped(f"activity is {activity.status if activity else 'gone'}")
    if ctx.now >= activity.starts_at:
        raise Skipped("started")
    signup = await ctx.uow.activities.signup_of(activity.id, item.user_id or 0)
    person = await ctx.uow.users.get(item.user_id or 0)
    if signup is None or signup.status != domain.IN or person is None:
        raise Skipped("no longer signed up")
    try:
        wait_for_quiet_hours(ctx, person)
    except Postpone as postpone:
        if postpone.until >= activity.starts_at:
            raise Skipped("quiet hours until the start") from None
        raise
    hours = max(1, round((activity.starts_at - ctx.now).total_seconds() / 3600))
    await ctx.tell.activities.about(person, await shown(ctx, await activity_of(ctx, activity.id)),
                                    N_("⏰ Reminder: your activity starts in about {hours} h. See you there!"),
                                    withdraw=ctx.now < activity.signup_deadline, hours=hours)
    return f"reminded {item.step} h before"


def month_start(moment: dt.datetime, config: ServiceConfig) -> dt.date:
    return moment.astimezone(config.timezone).date().replace(day=1)


def _due(first: dt.date, config: ServiceConfig) -> dt.datetime:
    hour, minute = (int(part) for part in config.reminders.digest_time.split(":"))
    day = min(config.activities.quota_reminder_day, 28)
    return dt.datetime.combine(first.replace(day=day), dt.time(hour, minute),
                               tzinfo=config.timezone).astimezone(dt.UTC)


def _following(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


async def schedule_quota(uow: UnitOfWork, config: ServiceConfig, now: dt.datetime) -> bool:
    """Make sure the next quota reminder is scheduled (keyed: once across processes and restarts);
    whether this call wrote it. Does not commit."""
    first = month_start(now, config)
    if _due(first, config) <= now:
        first = _following(first)
    return await uow.schedule.add(QUOTA, _due(first, config), key=f"{QUOTA}:{first.isoformat()}")


def month_bounds(first: dt.date, config: ServiceConfig) -> tuple[dt.datetime, dt.datetime]:
    """The month starting ``first``, local time, as UTC instants ``[start, end)``."""
    def at(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=config.timezone).astimezone(dt.UTC)
    return at(first), at(_following(first))


async def quota(ctx: ServiceContext, item: ScheduledItem) -> str:
    """The team leaders of teams under this month's target are reminded (once: the row is keyed)."""
    first = dt.date.fromisoformat(item.key.rpartition(":")[2]) if item.key else month_start(item.due_at, ctx.config)
    await schedule_quota(ctx.uow, ctx.config, max(ctx.now, _due(first, ctx.config)))
    counts = await ctx.uow.activities.count_by_team(*month_bounds(first, ctx.config))
    target = ctx.config.activities.per_team_per_month
    reminded = 0
    for team in await ctx.uow.teams.active():
        held = counts.get(team.id, 0)
        if held >= target:
            continue
        for leader in await ctx.uow.volunteers.leaders(team.id):
            await ctx.tell.activities.quota(leader, team, held, target)
        reminded += 1
    return f"{reminded} teams under {target}"


HANDLERS: dict[str, Callable[[ServiceContext, ScheduledItem], Awaitable[str]]] = {
    REMINDER: reminder, QUOTA: quota,
}
