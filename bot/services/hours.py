"""Service hours, from the ledger (:mod:`storage.ledger`, see docs/hours.md): an order's entry
when it is done, the volunteer's own figure beside it, honour hours and corrections by a
coordinator, "my hours", a team leader's view, the registry export and the certificate asked for
in the chat. Periods are the centre's time zone's months and years.

Honour hours (a coordinator's recognition) are kept apart from the hours served everywhere: shown
on their own line, never in the served totals nor in the registry export.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.attachments import MONTH, Certificate, HoursExport
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.inputs import Input
from bot.domain.lifecycle import MOVES, Move
from bot.i18n import N_
from bot.services import dialog_rules
from bot.services.context import ServiceContext
from bot.views.hours import CERTIFICATE_USAGE, HourTotals
from storage.ledger import ACTIVITY, HONOUR, ORDER, Period, Sums
from storage.models import Order, User

MAX_HONOUR_HOURS = 100  # one entry; more is surely a typo
MAX_REASON = 200
HONOUR_FLOW = "honour"  # the dialog of honour hours by short answers
LISTED_ENTRIES = 30  # the newest; the export has them all


# -- periods ------------------------------------------------------------------------------------------------------
def local_day(ctx: ServiceContext) -> dt.date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def days_period(tz: ZoneInfo, first: dt.date, last: dt.date) -> Period:
    """The UTC bounds of the local days ``first`` to ``last`` (inclusive)."""
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)

    return midnight(first), midnight(last + dt.timedelta(days=1))


def month_days(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def month_period(tz: ZoneInfo, year: int, month: int) -> Period:
    return days_period(tz, *month_days(year, month))


def year_period(tz: ZoneInfo, year: int) -> Period:
    return days_period(tz, dt.date(year, 1, 1), dt.date(year, 12, 31))


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); InvalidInput otherwise."""
    match = MONTH.match(text.strip())
    if match is None:
        raise InvalidInput(N_("Please give the month as YYYY-MM, e.g. 2026-11."))
    return int(match.group(1)), int(match.group(2))


def _current(ctx: ServiceContext) -> tuple[Period, Period]:
    today = local_day(ctx)
    return month_period(ctx.config.timezone, today.year, today.month), year_period(ctx.config.timezone, today.year)


def _totals(sums: dict[str, Sums]) -> HourTotals:
    none = Sums(0, 0, 0)
    return HourTotals(orders=sums.get(ORDER, none), activities=sums.get(ACTIVITY, none), honour=sums.get(HONOUR, none))


# -- order entries ------------------------------------------------------------------------------------------------
async def order_done(ctx: ServiceContext, order: Order) -> None:
    """The order just moved to done: its volunteer's entry for this round, accept → done (the audit
    log's times; the last accept of this round is theirs), capped for the order's category. A later
    reopening leaves it; the next round gets its own."""
    assert order.volunteer_id is not None
    accepted = [event.created_at for event in await ctx.uow.orders.events(order.id)
                if event.event == MOVES[Move.ACCEPT].event and event.actor_id == order.volunteer_id]
    started = accepted[-1] if accepted else ctx.now
    minutes = max(0, int((ctx.now - started).total_seconds() // 60))
    await ctx.uow.ledger.add(order.volunteer_id, ORDER, min(minutes, ctx.config.hours.cap_minutes(order.category)),
                             started, ended_at=ctx.now, team_id=order.team_id, order_id=order.id, round=order.round)


async def claim(ctx: ServiceContext, order_id: int, round: int, hours: float) -> bool:
    """The volunteer's own figure for their round, beside the counted minutes, once."""
    return await ctx.uow.ledger.claim(order_id, round, ctx.user.id, round_minutes(hours))


def round_minutes(hours: float) -> int:
    return round(hours * 60)


# -- what volunteers and leaders see -------------------------------------------------------------------------------
async def _require_volunteer(ctx: ServiceContext) -> None:
    if not any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        raise NotAllowed(N_("Only approved volunteers have service hours; tap Become a volunteer to register."))


async def summary(ctx: ServiceContext) -> None:
    """"My hours": this month, this year and in total, by source, honour hours apart; buttons for
    a certificate."""
    await _require_volunteer(ctx)
    month, year = _current(ctx)
    totals = _totals(await ctx.uow.ledger.totals(ctx.user.id, month, year))
    await ctx.tell.hours.summary(ctx.user, totals)
    await ctx.uow.commit()


async def team_view(ctx: ServiceContext) -> None:
    """A team leader's (or coordinator's led teams') hours per member, this month and this year."""
    led = await ctx.uow.teams.led_by(ctx.user.id)
    if not led:
        raise NotAllowed(N_("Only a team leader can see the team's hours."))
    month, year = _current(ctx)
    for team in led:
        per_user = await ctx.uow.ledger.team_totals(team.id, month, year)
        names = {m.user_id: m.name for m in await ctx.uow.volunteers.members(team.id) if m.user_id is not None}
        rows = sorted(((names.get(user_id, "?"), _totals(sums)) for user_id, sums in per_user.items()),
                      key=lambda row: (-row[1].served.year, row[0]))
        await ctx.tell.hours.team(ctx.user, team.name, rows)
    await ctx.uow.commit()


# -- the coordinator's part ---------------------------------------------------------------------------------------
def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise InvalidInput(N_("Please give a reason."))
    return reason[:MAX_REASON]


def _hours(raw: str, *, signed: bool) -> int:
    try:
        hours = float(raw.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5.")) from None
    limit_ok = 0 < abs(hours) <= MAX_HONOUR_HOURS if signed else 0 < hours <= MAX_HONOUR_HOURS
    minutes = round_minutes(hours)
    if not limit_ok or minutes == 0:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5."))
    return minutes


async def _volunteer_by_number(ctx: ServiceContext, registry_number: str) -> User:
    membership = await ctx.uow.volunteers.by_registry_number(registry_number.strip())
    if membership is not None and membership.user_id is not None and membership.status == "approved":
        person = await ctx.uow.users.get(membership.user_id)
        if person is not None:
            return person
    raise NotFound(N_("No approved volunteer in the bot has registry number {number}."), number=registry_number)


async def honour(ctx: ServiceContext, registry_number: str, raw_hours: str, reason: str) -> None:
    """A coordinator adds honour hours to a volunteer, with a reason: an entry of its own kind,
    never counted as hours served. The volunteer is told."""
    ctx.require_coordinator()
    minutes, why = _hours(raw_hours, signed=False), _reason(reason)
    person = await _volunteer_by_number(ctx, registry_number)
    teams = [v.team_id for v in await ctx.uow.volunteers.of_user(person.id) if v.status == "approved"]
    entry = await ctx.uow.ledger.add(person.id, HONOUR, minutes, ctx.now, team_id=teams[0] if teams else None,
                                     reason=why, created_by=ctx.user.id)
    await ctx.uow.audit.record(ctx.user.id, "hours", entry.id, "honour", user=person.id, minutes=minutes)
    await ctx.tell.hours.honoured(ctx.user, person, entry.id, minutes, why)
    await ctx.uow.commit()


async def correct(ctx: ServiceContext, entry_id: int, raw_hours: str, reason: str) -> None:
    """A coordinator corrects an entry by signed hours: a new entry; the original stays as it was.
    The result may not go below zero."""
    ctx.require_coordinator()
    minutes, why = _hours(raw_hours, signed=True), _reason(reason)
    original = await ctx.uow.ledger.get(entry_id)
    if original is None or original.corrects_id is not None:
        raise NotFound(N_("There is no hours entry #{number} to correct."), number=entry_id)
    if await ctx.uow.ledger.net_minutes(entry_id) + minutes < 0:
        raise InvalidInput(N_("Entry #{number} cannot go below zero hours."), number=entry_id)
    correction = await ctx.uow.ledger.correct(entry_id, minutes, why, ctx.user.id)
    assert correction is not None
    await ctx.uow.audit.record(ctx.user.id, "hours", correction.id, "correction", corrects=entry_id, minutes=minutes)
    await ctx.tell.hours.corrected(ctx.user, entry_id, minutes, await ctx.uow.ledger.net_minutes(entry_id))
    await ctx.uow.commit()


async def export(ctx: ServiceContext, which: str) -> None:
    """The registry export of this month or last month (``which``: this | last), as XLSX."""
    ctx.require_coordinator()
    today = local_day(ctx)
    if which == "last":
        today = today.replace(day=1) - dt.timedelta(days=1)
    elif which != "this":
        raise InvalidInput(N_("Please choose one of the buttons."))
    month = f"{today.year:04d}-{today.month:02d}"
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user, N_("Service records of {month} for the national "
                                                                "volunteer registry."),
                              HoursExport(month, "xlsx"), protect=True, month=month)
    await ctx.uow.commit()


async def coordinator_help(ctx: ServiceContext) -> None:
    """The 🏅 button: what the commands do, and honour hours by short answers — the registry number
    typed, the hours a button, the reason typed (the dialog row holds them, never a button)."""
    ctx.require_coordinator()
    await dialog_rules.begin_from_button(ctx, HONOUR_FLOW, "number", {})
    await ctx.tell.hours.coordinator_help(ctx.user)
    await ctx.uow.commit()


async def input_for_honour(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """The honour dialog's typed answers: the registry number, then (after the hours button) the reason."""
    ctx.require_coordinator()
    text = (inp.text or "").strip()
    if step == "number":
        person = await _volunteer_by_number(ctx, text)
        await ctx.uow.dialogs.set(ctx.user.id, HONOUR_FLOW, "hours", {"number": text})
        await ctx.tell.hours.ask_honour_hours(ctx.user, person)
    elif step == "reason":
        await dialog_rules.close(ctx, HONOUR_FLOW)
        await honour(ctx, str(data["number"]), str(data["hours"]), text)
        return
    else:
        raise InvalidInput(N_("Please choose one of the buttons."))
    await ctx.uow.commit()


async def honour_hours_chosen(ctx: ServiceContext, hours_text: str) -> None:
    """The honour dialog's hours button; the reason is asked next."""
    ctx.require_coordinator()
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != HONOUR_FLOW or dialog.step != "hours":
        raise Conflict(N_("This card is out of date."))
    await ctx.uow.dialogs.set(ctx.user.id, HONOUR_FLOW, "reason", {**dialog.data, "hours": hours_text})
    await ctx.tell(ctx.user, N_("Why? Type the reason in a few words (e.g. flood relief)."))
    await ctx.uow.commit()


async def offer_export(ctx: ServiceContext) -> None:
    ctx.require_coordinator()
    await ctx.tell.hours.export_choices(ctx.user)
    await ctx.uow.commit()


def certificate_days(ctx: ServiceContext, period: str) -> tuple[dt.date, dt.date]:
    today = local_day(ctx)
    if period == "month":
        return today.replace(day=1), today
    if period == "year":
        return dt.date(today.year, 1, 1), today
    if period == "lastyear":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    raise InvalidInput(N_("Please choose one of the buttons."))


async def ask_certificate(ctx: ServiceContext) -> None:
    """``/certificate`` alone: a volunteer gets their hours with the certificate buttons; a
    coordinator who serves in no team hears how to issue one."""
    if ctx.is_coordinator and not any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        raise InvalidInput(CERTIFICATE_USAGE)
    await summary(ctx)


async def certificate(ctx: ServiceContext, period: str, registry_number: str | None = None) -> None:
    """A service-record certificate (PDF) of ``period`` (month | year | lastyear): the volunteer's
    own, or, by a coordinator, a volunteer's by registry number (sent to the coordinator)."""
    first, last = certificate_days(ctx, period)
    if registry_number is None:
        await _require_volunteer(ctx)
        person = ctx.user
    else:
        ctx.require_coordinator()
        person = await _volunteer_by_number(ctx, registry_number)
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user, N_("Service-record certificate, {first} to {last}."),
                              Certificate(person.id, first, last), protect=True, first=first.isoformat(),
                              last=last.isoformat())
    await ctx.uow.commit()


async def list_entries(ctx: ServiceContext, registry_number: str) -> None:
    """A coordinator's look at a volunteer's entries this year, with the numbers ``/correct`` takes."""
    ctx.require_coordinator()
    person = await _volunteer_by_number(ctx, registry_number)
    _month, year = _current(ctx)
    listed = list(reversed(await ctx.uow.ledger.entries(person.id, year)))[:LISTED_ENTRIES]
    await ctx.tell.hours.entries(ctx.user, registry_number, listed, ctx.config.timezone)
    await ctx.uow.commit()
