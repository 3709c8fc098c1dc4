"""Follow-through in time: the escalation ladder, claim leases, appointments and the rating chase.

Each rule is a :class:`ScheduledItem` kind with a handler the sweep (``bot.services.schedule.sweep``) calls when
the item is due. Items are written by :func:`~bot.services.timetable.order_moved`, which follows
every move of an order in its transaction (``bot.services.follow_ups``): it cancels what the move
made pointless and schedules what the new status calls for. Handlers re-read the order and do
nothing but record a skip when it has moved on, so a late or repeated item can never act on a
stale state; the two that move an order themselves (a lease expiry, a "no response" close) do it
through :func:`bot.services.orders.move`, like every command.

Catch-up after downtime: a ladder step (escalation, rating chase) whose next step is due too is
skipped and recorded, not sent late; a repeating nudge schedules its next one from now, so hours
of missed nudges become one. Messages to people (not to groups) wait for the end of the
recipient's quiet hours unless the order is an emergency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection

from bot.domain.lifecycle import ACTIVE, MOVES, Move, OrderStatus
from bot.domain.quiet_hours import parse_range, quiet_until, window_of
from bot.i18n import N_, P_
from bot.services import orders
from bot.services.context import ServiceContext
from bot.services.timetable import (
    APPOINTMENT,
    ESCALATE,
    LEASE,
    LEASE_EXPIRY,
    OVERDUE,
    RATING,
)
from storage.models import Order, ScheduledItem, User


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


# -- the handlers ----------------------------------------------------------------------------------------
async def _order_in(ctx: ServiceContext, item: ScheduledItem, statuses: Collection[str]) -> Order:
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
    if not order.urgent:
        wait_for_quiet_hours(ctx, person)


def wait_for_quiet_hours(ctx: ServiceContext, person: User) -> None:
    """:class:`Postpone` until ``person``'s quiet hours (or the default ones) end, if they are in them."""
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
    order = await _order_in(ctx, item, (OrderStatus.DISPATCHED,))
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
            await ctx.tell(leader, P_("Request #{number} has waited {minutes} minute in team {team}'s group and "
                                       "nobody has taken it. Can you find someone?",
                                       "Request #{number} has waited {minutes} minutes in team {team}'s group and "
                                       "nobody has taken it. Can you find someone?", "minutes"),
                            number=order.id, minutes=waited, team=team.name)
        await ctx.tell.centre.message(
            await ctx.centre(), P_("⚠️ Request #{number} ({team}) has waited {minutes} minute and nobody "
                                    "has taken it.", "⚠️ Request #{number} ({team}) has waited {minutes} minutes "
                                    "and nobody has taken it.", "minutes"),
            number=order.id, team=team.name, minutes=waited)
        result = "alerted"
    await ctx.uow.orders.record(order.id, None, "escalated", step=item.step)
    return result


async def lease(ctx: ServiceContext, item: ScheduledItem) -> str:
    """An accepted order not marked "On my way" in time: ask the volunteer; no answer releases it."""
    order = await _order_in(ctx, item, (OrderStatus.ACCEPTED,))
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
    """No answer to the lease question: the order goes back to the group as if the volunteer had
    released it (the same card, centre cards and resident message); only they are told otherwise."""
    order = await _order_in(ctx, item, MOVES[Move.LEASE_EXPIRED].sources)
    if await orders.move(ctx, order.id, Move.LEASE_EXPIRED, where={"volunteer_id": item.user_id}) is None:
        raise Skipped("moved on")
    volunteer = await ctx.uow.users.get(item.user_id or 0)
    if volunteer is not None:
        await ctx.tell(volunteer, N_("You did not confirm request #{number}, so it went back to the team's "
                                      "group. Thank you all the same!"), number=order.id)
    return "released"


async def appointment(ctx: ServiceContext, item: ScheduledItem) -> str:
    order = await _order_in(ctx, item, (OrderStatus.ACCEPTED,))
    volunteer = await _person(ctx, order.volunteer_id)
    _not_in_quiet_hours(ctx, volunteer, order)
    assert order.appointment_at is not None
    local = order.appointment_at.astimezone(ctx.config.timezone)
    await ctx.tell(volunteer, N_("Reminder: request #{number} is at {time}. Tap On my way when you set off."),
                    number=order.id, time=ctx.tell.moment(volunteer, local),
                    markup=ctx.tell.volunteer.keyboard(volunteer, order))
    return "reminded"


async def overdue(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Past the agreed time plus grace and not done: nudge the volunteer (again every interval,
    counted from now, so an outage yields one nudge); from the second nudge on, the coordinators."""
    order = await _order_in(ctx, item, ACTIVE)
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
    order = await _order_in(ctx, item, (OrderStatus.DONE,))
    await _overtaken(ctx, item)
    last = len(ctx.config.reminders.rating_reminder_hours) + 1
    if item.step >= last:
        if await orders.move(ctx, order.id, Move.NO_RESPONSE, no_response=True) is None:
            raise Skipped("moved on")
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
