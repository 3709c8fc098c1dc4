"""Follow-through in time: the escalation ladder, claim leases, appointments and the rating chase.

Each rule is a :class:`ScheduledItem` kind with a handler the sweep (``bot.services.schedule.sweep``) calls when
the item is due. Items are written by :func:`order_moved`, which the order services call in the
same transaction as each status change: it cancels what the change made pointless and schedules
what the new status calls for. Handlers re-read the order and do nothing but record a skip when it
has moved on, so a late or repeated item can never act on a stale state.

Catch-up after downtime: a ladder step (escalation, rating chase) whose next step is due too is
skipped and recorded, not sent late; a repeating nudge schedules its next one from now, so hours
of missed nudges become one. Messages to people (not to groups) wait for the end of the
recipient's quiet hours unless the order is an emergency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from bot.domain.quiet_hours import parse_range, quiet_until, window_of
from bot.i18n import N_
from bot.services import centre
from bot.services.context import ServiceContext
from storage.models import Order, ScheduledItem, User

ESCALATE, LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE, RATING = (
    "escalate", "lease", "lease_expiry", "appointment", "overdue", "rating")
ORDER_KINDS = (ESCALATE, LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE, RATING)
APPOINTMENT_HOUR = 9  # a day without a time is taken to start at 09:00 local time
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


class Skipped(Exception):
    """The item is not sent: it was overtaken, or its order moved on (recorded with the reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Postpone(Exception):
    """The item is due again at ``until`` (the recipient's quiet hours)."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


# -- scheduling, called with every status change ---------------------------------------------------
def appointment_of(when_text: str, timezone: ZoneInfo) -> dt.datetime | None:
    """The agreed time when the request's time reads as one (``2026-11-30`` or ``2026-11-30 14:00``)."""
    match = _DATE_TIME.match(when_text.strip())
    if match is None:
        return None
    try:
        day = dt.date.fromisoformat(match.group(1))
        hour, minute = (int(match.group(2)), int(match.group(3))) if match.group(2) else (APPOINTMENT_HOUR, 0)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone).astimezone(dt.UTC)
    except ValueError:
        return None


async def order_moved(ctx: ServiceContext, order: Order) -> None:
    """Cancel the order's pending items and schedule what its new status calls for."""
    schedule, now, settings = ctx.uow.schedule, ctx.now, ctx.config.reminders
    await schedule.cancel(order.id)
    if order.status == "dispatched":
        delays = settings.urgent_escalation_minutes if order.urgent else settings.escalation_minutes
        for step, minutes in enumerate(delays, start=1):
            await schedule.add(ESCALATE, now + dt.timedelta(minutes=minutes), order_id=order.id, step=step)
    elif order.status == "accepted":
        minutes = settings.urgent_lease_minutes if order.urgent else settings.lease_minutes
        await schedule.add(LEASE, now + dt.timedelta(minutes=minutes), order_id=order.id, user_id=order.volunteer_id)
    if order.status in ("accepted", "on_way") and order.appointment_at is not None:
        before = order.appointment_at - dt.timedelta(minutes=settings.appointment_before_minutes)
        if before > now and order.status == "accepted":
            await schedule.add(APPOINTMENT, before, order_id=order.id, user_id=order.volunteer_id)
        overdue = order.appointment_at + dt.timedelta(minutes=settings.appointment_grace_minutes)
        await schedule.add(OVERDUE, max(overdue, now), order_id=order.id, user_id=order.volunteer_id, step=1)
    elif order.status == "done":
        for step, hours in enumerate([*settings.rating_reminder_hours, settings.rating_no_response_hours], start=1):
            await schedule.add(RATING, now + dt.timedelta(hours=hours), order_id=order.id,
                               user_id=order.resident_id, step=step)


# -- the handlers ----------------------------------------------------------------------------------------
async def _order_in(ctx: ServiceContext, item: ScheduledItem, statuses: tuple[str, ...]) -> Order:
    order = await ctx.uow.orders.get(item.order_id or 0)
    if order is None or order.status not in statuses:
        raise Skipped(f"order is {order.status if order else 'gone'}")
    return order


async def _overtaken(ctx: ServiceContext, item: ScheduledItem) -> None:
    """A ladder step whose next step is due as well is not sent late: the next one speaks. A later
    step another process has fired already counts too (this one waited on its lock meanwhile)."""
    later = await ctx.uow.schedule.later_step_due(item, ctx.now)
    if later is not None:
        raise Skipped(f"overtaken by step {later}")


def _not_in_quiet_hours(ctx: ServiceContext, person: User, order: Order) -> None:
    """Non-urgent messages to a person wait until their quiet hours (or the default ones) end."""
    if order.urgent:
        return
    window = window_of(person, parse_range(ctx.config.reminders.quiet_hours))
    until = quiet_until(window, ctx.now, ctx.config.timezone)
    if until is not None:
        raise Postpone(until)


async def _person(ctx: ServiceContext, user_id: int | None) -> User:
    person = await ctx.uow.users.get(user_id or 0)
    if person is None:
        raise Skipped("nobody to tell")
    return person


async def escalate(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Step 1: bump the card in the team's group. Step 2: offer it to the other teams with its
    category. Step 3: alert the team's leaders and the coordinators. The card shows the step."""
    order = await _order_in(ctx, item, ("dispatched",))
    await _overtaken(ctx, item)
    team = await ctx.uow.teams.get(order.team_id or 0)
    if team is None:
        raise Skipped("no team")
    _ = ctx.tell.group_tr()
    await ctx.tell.card.edit(order, _("Status: waiting for a volunteer · ⏫ reminder {step}/3", step=item.step),
                              accept_button=True)
    if item.step == 1:
        if team.chat_id is None:
            raise Skipped("team has no group")
        await ctx.tell.card.bump(order, team)
        result = "bumped"
    elif item.step == 2:
        others = [t for t in await ctx.uow.teams.for_category(order.category) if t.id != team.id and t.chat_id]
        cards = dict(order.offer_cards or {})
        for other in others:
            if str(other.id) not in cards:
                cards[str(other.id)] = await ctx.tell.card.post(order, other, offered=True)
        order.offer_cards = cards
        result = f"offered to {len(others)} teams"
    else:
        waited = int((ctx.now - order.updated_at).total_seconds() // 60)
        for leader in await ctx.uow.volunteers.leaders(team.id):
            await ctx.tell(leader, N_("Request #{number} has waited {minutes} minutes in team {team}'s group "
                                       "and nobody has taken it. Can you find someone?"),
                            number=order.id, minutes=waited, team=team.name)
        await ctx.tell.centre.message(
            await ctx.centre(), N_("⚠️ Request #{number} ({team}) has waited {minutes} minutes and nobody "
                                    "has taken it."), number=order.id, team=team.name, minutes=waited)
        result = "alerted"
    await ctx.uow.orders.record(order.id, None, "escalated", step=item.step)
    return result


async def lease(ctx: ServiceContext, item: ScheduledItem) -> str:
    """An accepted order not marked "On my way" in time: ask the volunteer; no answer releases it."""
    order = await _order_in(ctx, item, ("accepted",))
    if order.volunteer_id != item.user_id:
        raise Skipped("taken by someone else")
    volunteer = await _person(ctx, order.volunteer_id)
    _not_in_quiet_hours(ctx, volunteer, order)
    answer = ctx.config.reminders.lease_answer_minutes
    await ctx.tell.volunteer.lease_question(volunteer, order, answer)
    await ctx.uow.schedule.add(LEASE_EXPIRY, ctx.now + dt.timedelta(minutes=answer), order_id=order.id,
                                user_id=volunteer.id)
    return "asked"


async def lease_expiry(ctx: ServiceContext, item: ScheduledItem) -> str:
    """No answer to the lease question: the order goes back to the group, the resident is told."""
    order = await _order_in(ctx, item, ("accepted",))
    if not await ctx.uow.orders.transition(order.id, ["accepted"], "dispatched",
                                            where={"volunteer_id": item.user_id}, volunteer_id=None):
        raise Skipped("moved on")
    order = await _order_in(ctx, item, ("dispatched",))
    await ctx.uow.orders.record(order.id, None, "lease_expired")
    _ = ctx.tell.group_tr()
    await ctx.tell.card.edit(order, _("Status: waiting for a volunteer (the previous one did not confirm)"),
                              accept_button=True)
    await centre.show_with_team(ctx, order, await ctx.uow.teams.get(order.team_id or 0))
    volunteer = await ctx.uow.users.get(item.user_id or 0)
    if volunteer is not None:
        await ctx.tell(volunteer, N_("You did not confirm request #{number}, so it went back to the team's "
                                      "group. Thank you all the same!"), number=order.id)
    resident = await _person(ctx, order.resident_id)
    await ctx.tell.resident.status(resident, order, N_("The volunteer could not do request #{number}; "
                                                        "we are finding another one."))
    await order_moved(ctx, order)
    return "released"




async def appointment(ctx: ServiceContext, item: ScheduledItem) -> str:
    order = await _order_in(ctx, item, ("accepted",))
    volunteer = await _person(ctx, order.volunteer_id)
    _not_in_quiet_hours(ctx, volunteer, order)
    assert order.appointment_at is not None
    local = order.appointment_at.astimezone(ctx.config.timezone)
    await ctx.tell(volunteer, N_("Reminder: request #{number} is at {time}. Tap On my way when you set off."),
                    number=order.id, time=local.strftime("%m-%d %H:%M"),
                    markup=ctx.tell.volunteer.keyboard(volunteer, order))
    return "reminded"


async def overdue(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Past the agreed time plus grace and not done: nudge the volunteer (again every interval,
    counted from now, so an outage yields one nudge); from the second nudge on, the coordinators."""
    order = await _order_in(ctx, item, ("accepted", "on_way"))
    volunteer = await _person(ctx, order.volunteer_id)
    _not_in_quiet_hours(ctx, volunteer, order)
    await ctx.tell(volunteer, N_("Request #{number} is past its time. If it is done, tap Done; if you cannot "
                                  "do it, tap Release."), number=order.id,
                    markup=ctx.tell.volunteer.keyboard(volunteer, order))
    if item.step == 2:
        await ctx.tell.centre.message(
            await ctx.centre(), N_("⏰ Request #{number} is past its time and {volunteer} has not marked it "
                                    "done."), number=order.id, volunteer=volunteer.first_name)
    interval = dt.timedelta(minutes=ctx.config.reminders.overdue_nudge_minutes)
    await ctx.uow.schedule.add(OVERDUE, ctx.now + interval, order_id=order.id, user_id=volunteer.id,
                                step=item.step + 1)
    return f"nudge {item.step}"


async def rating(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Not rated: a reminder after 24 h and 72 h, then "no response" (closed, counted apart)."""
    order = await _order_in(ctx, item, ("done",))
    await _overtaken(ctx, item)
    last = len(ctx.config.reminders.rating_reminder_hours) + 1
    if item.step >= last:
        if not await ctx.uow.orders.transition(order.id, ["done"], "closed", no_response=True):
            raise Skipped("moved on")
        await ctx.uow.orders.record(order.id, None, "no_response")
        return "no response"
    resident = await _person(ctx, order.resident_id)
    _not_in_quiet_hours(ctx, resident, order)
    volunteer = await ctx.uow.users.get(order.volunteer_id or 0)
    await ctx.tell.resident.ask_rating(resident, order, volunteer.first_name if volunteer else "—", reminder=True)
    return f"reminder {item.step}"


HANDLERS: dict[str, Callable[[ServiceContext, ScheduledItem], Awaitable[str]]] = {
    ESCALATE: escalate, LEASE: lease, LEASE_EXPIRY: lease_expiry, APPOINTMENT: appointment, OVERDUE: overdue,
    RATING: rating,
}
