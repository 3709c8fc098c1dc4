"""Digests and the monthly report: recurring schedule items (see docs/reminders.md).

* ``daily_digest`` (every day at ``reminders.digest_time``, local time) tells the centre which
  requests wait too long and which are past their time, by team. Waiting too long: new or
  dispatched and not taken for longer than the last escalation step of the order's ladder
  (``max(escalation_minutes)``, urgent orders ``max(urgent_escalation_minutes)``), counted from
  when it entered that status. Past its time: accepted or on the way, and the agreed time plus
  ``appointment_grace_minutes`` has passed. With neither, the centre gets one "all clear" line (so
  it knows the digest ran).
* ``weekly_digest`` (on ``reminders.weekly_digest_weekday`` at ``digest_time``) lists each active
  team's open requests (dispatched, accepted, on the way) in its group: number, category,
  community, time, status — never a name, phone, address or description. A team with none gets
  one line.
* ``monthly_report`` (on the 1st at ``digest_time``) gives each team's leaders privately, and the
  centre for every team, the previous calendar month (local time): requests closed that month and
  still closed, the average of the star ratings that closed them, and apart from those the ones
  closed as "no response".

Each occurrence is one ``schedule`` row keyed ``<kind>:<local date>`` (``daily_digest:2026-11-30``),
due at ``digest_time`` local time, stored in UTC. :func:`schedule_recurring` makes sure the next
occurrence of every kind exists; the key makes that an INSERT … ON CONFLICT DO NOTHING, so any
number of bot processes, restarts and handlers create each occurrence once. It runs at start-up
and in every digest handler (each handler schedules all three kinds, so a kind whose item failed
for good is rescheduled by the next digest of another kind).

Catch-up: an occurrence is handled once, however late. Up to ``STALE_AFTER`` (12 hours) late it is
sent as usual; later than that a daily or weekly digest is skipped as stale (the next one is
scheduled), and the monthly report — the only one for its month — waits for the next digest time
(it reports the month named by its key). One exception, because the sweep rolls back the writes
of a skipped or postponed handler: when the handler itself had to create the next occurrences
(no start-up since the outage), a stale daily or weekly digest is recorded done as "stale, not
sent", and a stale monthly report is sent at once. Digests ignore personal quiet hours: they go at
the configured time of day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import ACTIVE, DISPATCHABLE, WITH_TEAM, OrderStatus
from bot.services.context import ReminderConfig, ServiceConfig, ServiceContext
from bot.services.schedule.rules import Postpone, Skipped
from storage.models import Order, ScheduledItem
from storage.uow import UnitOfWork

DAILY, WEEKLY, MONTHLY = "daily_digest", "weekly_digest", "monthly_report"
KINDS = (DAILY, WEEKLY, MONTHLY)
STALE_AFTER = dt.timedelta(hours=12)
T = TypeVar("T")


# -- when --------------------------------------------------------------------------------------------
def _at(day: dt.date, clock: str, timezone: ZoneInfo) -> dt.datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone)


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def next_occurrence(kind: str, now: dt.datetime, timezone: ZoneInfo,
                    settings: ReminderConfig) -> tuple[str, dt.datetime]:
    """The first occurrence of ``kind`` strictly after ``now``: its key (with the local date) and
    when it is due, in UTC."""
    today = now.astimezone(timezone).date()
    if kind == DAILY:
        days = [today, today + dt.timedelta(days=1)]
    elif kind == WEEKLY:
        first = today + dt.timedelta(days=(settings.weekly_digest_weekday - today.weekday()) % 7)
        days = [first, first + dt.timedelta(days=7)]
    elif kind == MONTHLY:
        first = today.replace(day=1)
        days = [first, _next_month(first)]
    else:
        raise ValueError(f"not a digest kind: {kind!r}")
    day = next(d for d in days if _at(d, settings.digest_time, timezone) > now)
    return f"{kind}:{day.isoformat()}", _at(day, settings.digest_time, timezone).astimezone(dt.UTC)


async def schedule_recurring(uow: UnitOfWork, config: ServiceConfig, now: dt.datetime) -> int:
    """Make sure the next occurrence of every digest is scheduled; returns how many rows this
    created (0 when another process or an earlier call already did). Does not commit."""
    created = 0
    for kind in KINDS:
        key, due_at = next_occurrence(kind, now, config.timezone, config.reminders)
        created += await uow.schedule.add(kind, due_at, key=key)
    return created


async def _stale(ctx: ServiceContext, item: ScheduledItem) -> tuple[bool, bool]:
    """Schedule every digest's next occurrence; (whether this created any, whether ``item`` is stale)."""
    created = await schedule_recurring(ctx.uow, ctx.config, ctx.now) > 0
    return created, ctx.now - item.due_at > STALE_AFTER


async def _skip_if_stale(ctx: ServiceContext, item: ScheduledItem) -> str | None:
    """None when the daily or weekly ``item`` is on time; else Skipped (or a "not sent" result when
    raising would roll back the next occurrences just created)."""
    created, stale = await _stale(ctx, item)
    if not stale:
        return None
    reason = f"stale: due {item.due_at:%Y-%m-%d %H:%M} UTC"
    if created:
        return reason + ", not sent"
    raise Skipped(reason)


def _minutes(since: dt.datetime, now: dt.datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))


# -- the handlers --------------------------------------------------------------------------------------
async def daily_digest(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Requests waiting too long and requests past their time, by team, to the centre."""
    if (stale := await _skip_if_stale(ctx, item)) is not None:
        return stale
    now, settings = ctx.now, ctx.config.reminders
    waiting = await ctx.uow.orders.waiting_since(
        sorted(DISPATCHABLE), now - dt.timedelta(minutes=max(settings.escalation_minutes)),
        now - dt.timedelta(minutes=max(settings.urgent_escalation_minutes)))
    late = await ctx.uow.orders.past_appointment(
        sorted(ACTIVE), now - dt.timedelta(minutes=settings.appointment_grace_minutes))
    names = {t.id: t.name for t in await ctx.uow.teams.every()}
    volunteers: dict[int, str] = {}
    for order in late:
        if order.volunteer_id is not None and order.volunteer_id not in volunteers:
            person = await ctx.uow.users.get(order.volunteer_id)
            volunteers[order.volunteer_id] = person.first_name if person else "—"
    await ctx.tell.digests.daily(await ctx.centre(),
        now.astimezone(ctx.config.timezone).date(),
        _by_team(waiting, names, lambda o: (o, _minutes(o.updated_at, now))),
        _by_team(late, names, lambda o: (o, _minutes(o.appointment_at or now, now),
                                                            volunteers.get(o.volunteer_id or 0, "—"))))
    return f"{len(waiting)} waiting, {len(late)} past their time"


def _by_team(orders: Sequence[Order], names: dict[int, str],
                entry: Callable[[Order], T]) -> list[tuple[str | None, list[T]]]:
    """Orders grouped by their team's name (in name order; those without a team last)."""
    groups: dict[str | None, list[T]] = {}
    for order in orders:
        groups.setdefault(names.get(order.team_id) if order.team_id else None, []).append(entry(order))
    return sorted(groups.items(), key=lambda group: (group[0] is None, group[0] or ""))


async def weekly_digest(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Each active team's open requests, in its group (group-safe: see bot.views.digests.DigestsView.weekly)."""
    if (stale := await _skip_if_stale(ctx, item)) is not None:
        return stale
    told = 0
    for team in await ctx.uow.teams.active():
        if team.chat_id is None:
            continue
        await ctx.tell.digests.weekly(team, await ctx.uow.orders.of_team(team.id, sorted(WITH_TEAM)))
        told += 1
    return f"{told} teams"


def report_month(item: ScheduledItem, timezone: ZoneInfo) -> tuple[dt.date, dt.date]:
    """The first day of the month a monthly report covers and of the month after (the key's date,
    which a postponed report keeps)."""
    if item.key and ":" in item.key:
        this_month = dt.date.fromisoformat(item.key.rpartition(":")[2]).replace(day=1)
    else:
        this_month = item.due_at.astimezone(timezone).date().replace(day=1)
    return (this_month - dt.timedelta(days=1)).replace(day=1), this_month


async def monthly_report(ctx: ServiceContext, item: ScheduledItem) -> str:
    """Last month's completed requests and average rating per team, and its activities against the
    monthly target, to its leaders and the centre."""
    created, stale = await _stale(ctx, item)
    if stale and not created:
        raise Postpone(next_occurrence(DAILY, ctx.now, ctx.config.timezone, ctx.config.reminders)[1])
    timezone = ctx.config.timezone
    first, following = report_month(item, timezone)
    start = dt.datetime.combine(first, dt.time(), tzinfo=timezone).astimezone(dt.UTC)
    end = dt.datetime.combine(following, dt.time(), tzinfo=timezone).astimezone(dt.UTC)
    closed = await ctx.uow.orders.closed_by_team(start, end, closed=OrderStatus.CLOSED)
    rated = await ctx.uow.ratings.closed_by_team(start, end, closed=OrderStatus.CLOSED)
    month = first.strftime("%Y-%m")
    held = await ctx.uow.activities.count_by_team(start, end)
    target = ctx.config.activities.per_team_per_month
    rows, activity_rows = [], []
    for team in await ctx.uow.teams.every():
        if not team.active and team.id not in closed:
            continue
        completed, silent = closed.get(team.id, (0, 0))
        count, average = rated.get(team.id, (0, None))
        row = (team.name, completed, count, average, silent)
        rows.append(row)
        if team.active:
            activities = (team.name, held.get(team.id, 0), target)
            activity_rows.append(activities)
            for leader in await ctx.uow.volunteers.leaders(team.id):
                await ctx.tell.digests.monthly_to_leader(leader, first, row, activities)
    await ctx.tell.digests.monthly_to_centre(await ctx.centre(), first, rows, activity_rows)
    return f"{month}: {sum(r[1] for r in rows)} completed"


HANDLERS: dict[str, Callable[[ServiceContext, ScheduledItem], Awaitable[str]]] = {
    DAILY: daily_digest, WEEKLY: weekly_digest, MONTHLY: monthly_report,
}
