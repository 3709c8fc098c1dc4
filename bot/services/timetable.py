"""An order's timetable: what each status calls for in time, the schedule rows a move cancels and the
ones it writes.

:func:`order_moved` is the schedule's follow-up of every move (``bot.services.follow_ups``), run in
the move's transaction; the rules that act on the rows when due are in
:mod:`bot.services.schedule.rules`. Kept apart from them because those rules move orders themselves
(a lease expiry, a "no response" close): the follow-ups of a move must not import them back, so
the timetable sits beside the schedule package, not in it (the import contracts allow no cycle).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import ACTIVE, OrderStatus
from bot.domain.when import parse_when
from bot.services.context import ServiceContext
from storage.models import Order

ESCALATE, LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE, RATING = (
    "escalate", "lease", "lease_expiry", "appointment", "overdue", "rating")
ORDER_KINDS = (ESCALATE, LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE, RATING)
APPOINTMENT_HOUR = 9  # a day without a time is taken to start at 09:00 local time
DAY_MARGIN = dt.timedelta(hours=3)  # ... or, placed later than that, this long after it was placed
END_OF_DAY = dt.time(23, 59)  # ... but still that day


def appointment_of(when_text: str, timezone: ZoneInfo, placed_at: dt.datetime) -> dt.datetime | None:
    """The agreed time when the request's time reads as one (``2026-11-30`` or ``2026-11-30 14:00``).

    A day without an hour (the *Today* and *Tomorrow* buttons, a typed date) means some time that
    day: 09:00, or — for a request placed less than :data:`DAY_MARGIN` before that, say "today" in
    the afternoon — :data:`DAY_MARGIN` after ``placed_at``, though not past the day's end (23:59).
    So a request is never past its time the moment it is placed, and "On my way" brings no overdue
    nudge. A time the resident gave is taken as given."""
    parsed = parse_when(when_text)
    if parsed is None:
        return None
    day, time = parsed
    if time is not None:
        return dt.datetime.combine(day, time, tzinfo=timezone).astimezone(dt.UTC)
    start = dt.datetime.combine(day, dt.time(APPOINTMENT_HOUR), tzinfo=timezone).astimezone(dt.UTC)
    end = dt.datetime.combine(day, END_OF_DAY, tzinfo=timezone).astimezone(dt.UTC)
    return max(start, min(placed_at.astimezone(dt.UTC) + DAY_MARGIN, end))


async def order_moved(ctx: ServiceContext, order: Order) -> None:
    """Cancel the order's pending items and schedule what its new status calls for."""
    schedule, now, settings = ctx.uow.schedule, ctx.now, ctx.config.reminders
    await schedule.cancel(order.id)
    if order.status == OrderStatus.DISPATCHED:
        delays = settings.urgent_escalation_minutes if order.urgent else settings.escalation_minutes
        for step, minutes in enumerate(delays, start=1):
            await schedule.add(ESCALATE, now + dt.timedelta(minutes=minutes), order_id=order.id, step=step)
    elif order.status == OrderStatus.ACCEPTED:
        minutes = settings.urgent_lease_minutes if order.urgent else settings.lease_minutes
        await schedule.add(LEASE, now + dt.timedelta(minutes=minutes), order_id=order.id, user_id=order.volunteer_id)
    if order.status in ACTIVE and order.appointment_at is not None:
        before = order.appointment_at - dt.timedelta(minutes=settings.appointment_before_minutes)
        if before > now and order.status == OrderStatus.ACCEPTED:
            await schedule.add(APPOINTMENT, before, order_id=order.id, user_id=order.volunteer_id)
        overdue = order.appointment_at + dt.timedelta(minutes=settings.appointment_grace_minutes)
        await schedule.add(OVERDUE, max(overdue, now), order_id=order.id, user_id=order.volunteer_id, step=1)
    elif order.status == OrderStatus.DONE:
        for step, hours in enumerate([*settings.rating_reminder_hours, settings.rating_no_response_hours], start=1):
            await schedule.add(RATING, now + dt.timedelta(hours=hours), order_id=order.id,
                               user_id=order.resident_id, step=step)
