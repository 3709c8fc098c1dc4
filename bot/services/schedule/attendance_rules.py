"""The sweep's rules for activities' ends (see :mod:`bot.services.attendance`): at its end an
activity is finished (whoever is still checked in is checked out, places never used are no-shows),
and an hourly watch schedules the end of any open activity whose end nobody scheduled."""

from __future__ import annotations

from bot.services import attendance
from bot.services.context import ServiceContext
from bot.services.schedule.rules import Postpone, Skipped
from storage.models import ScheduledItem


async def activity_end(ctx: ServiceContext, item: ScheduledItem) -> str:
    """The sweep's rule for ``activity_end``: finish the activity at its end (later if it moved)."""
    activity = await ctx.uow.activities.get(item.activity_id or 0)
    if activity is None or activity.status != "open":
        raise Skipped(f"activity is {activity.status if activity else 'gone'}")
    if ctx.now < activity.ends_at:
        raise Postpone(activity.ends_at)
    if not await attendance.finish(ctx, activity, activity.ends_at):
        raise Skipped("finished meanwhile")
    return "finished"


async def ends_watch(ctx: ServiceContext, item: ScheduledItem) -> str:
    """The sweep's rule for the hourly ``activity_ends`` watch (after downtime: one, from now)."""
    return f"scheduled {await attendance.watch_ends(ctx.uow, ctx.now)}"


HANDLERS = {attendance.ACTIVITY_END: activity_end, attendance.ENDS_WATCH: ends_watch}
