"""``/report`` (docs/measures.md): a coordinator chooses a period (this month, last month, this
year) and a place (the district, a community, a team) by buttons; a team leader sees their own
teams only. The answer is the report's text and its XLSX workbook (made as the message goes out).
Every button is checked again here: a leader's tap on another team's id is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain.attachments import ReportChart, ReportFile
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.inputs import Input
from bot.domain.measures import Period, Scope
from bot.i18n import N_, P_
from bot.services import dialog_rules, measures
from bot.services.context import ServiceContext
from bot.services.hours import local_day
from storage.models import Team

NOT_ALLOWED = N_("Only coordinators and team leaders can see reports.")


def period_of(ctx: ServiceContext, which: str) -> Period:
    """this | last (a month) | year (to today)."""
    today = local_day(ctx)
    if which == "this":
        return Period.month(today.year, today.month)
    if which == "last":
        before = today.replace(day=1) - dt.timedelta(days=1)
        return Period.month(before.year, before.month)
    if which == "year":
        return Period(dt.date(today.year, 1, 1), today + dt.timedelta(days=1))
    raise InvalidInput(N_("Please choose one of the buttons."))


async def _teams(ctx: ServiceContext) -> list[Team]:
    """The teams the person may see: every team for a coordinator, else the ones they lead."""
    if ctx.is_coordinator:
        return list(await ctx.uow.teams.every())
    return list(await ctx.uow.teams.led_by(ctx.user.id))


async def offer(ctx: ServiceContext) -> None:
    if not ctx.is_coordinator and not await ctx.uow.teams.led_by(ctx.user.id):
        raise NotAllowed(NOT_ALLOWED)
    await ctx.tell.report.periods(ctx.user)
    await ctx.uow.commit()


async def period_chosen(ctx: ServiceContext, which: str) -> None:
    period_of(ctx, which)
    teams = await _teams(ctx)
    if not ctx.is_coordinator and not teams:
        raise NotAllowed(NOT_ALLOWED)
    communities = await ctx.uow.measures.communities() if ctx.is_coordinator else []
    await ctx.tell.report.places(ctx.user, which, communities, teams, ctx.is_coordinator)
    await ctx.uow.commit()


async def _scope(ctx: ServiceContext, kind: str, ident: int) -> Scope:
    if kind == "t":
        team = next((t for t in await _teams(ctx) if t.id == ident), None)
        if team is None:
            if ctx.is_coordinator:
                raise NotFound(N_("There is no team {code}."), code=ident)
            raise NotAllowed(N_("A team leader sees the reports of their own team only."))
        return Scope("team", team.code)
    ctx.require_coordinator()
    if kind == "c":
        communities = await ctx.uow.measures.communities()
        if not 0 <= ident < len(communities):
            raise NotFound(N_("This card is out of date."))
        return Scope("community", communities[ident])
    return Scope()


async def place_chosen(ctx: ServiceContext, which: str, kind: str, ident: int) -> None:
    """The report of that period and place: its text, and the workbook as a document."""
    if not ctx.is_coordinator and not await ctx.uow.teams.led_by(ctx.user.id):
        raise NotAllowed(NOT_ALLOWED)
    period = period_of(ctx, which)
    scope = await _scope(ctx, kind, ident)
    # The text is the place's own rates (a month from the summaries, else one pass over the period);
    # the workbook, with every team, community and month, is made by the outbox sender as the message goes out.
    where = await measures.place(ctx.uow, scope)
    figures = await measures.measure_quickly(ctx.uow, ctx.config.measures, where, period, ctx.config.timezone)
    await ctx.tell.report.report(ctx.user, where.name, period, figures, [])
    language = ctx.user.language or ctx.config.default_language
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user, N_("📈 The rates month by month."),
                             ReportChart(period.start, period.end, scope.kind, scope.key, "months", language))
    if scope.kind == "district":  # the teams side by side
        await ctx.tell.send_file(ctx.user.telegram_id, ctx.user, N_("📊 The teams side by side."),
                                 ReportChart(period.start, period.end, scope.kind, scope.key, "teams", language))
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user, N_("The report as a spreadsheet."),
                             ReportFile(period.start, period.end, scope.kind, scope.key))
    await ctx.uow.commit()


HOUSEHOLDS_USAGE = N_("Usage: /households BUILDING_CODE-or-COMMUNITY NUMBER, e.g. /households A3 120 "
                      "(a building) or /households 幸福社区 2400 (a whole community).")


HOUSEHOLDS_FLOW = "households"  # the 🏠 button's short answer: "A3 120"


async def households_help(ctx: ServiceContext) -> None:
    """The 🏠 button: a short answer sets households, for 知晓率 (docs/measures.md)."""
    ctx.require_coordinator()
    await dialog_rules.begin_from_button(ctx, HOUSEHOLDS_FLOW, "set", {})
    await ctx.tell(ctx.user, N_("🏠 Type a building's code or a community's name and its number of households, "
                                "e.g. A3 120."))
    await ctx.uow.commit()


async def input_for_households(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """The 🏠 dialog's answer: the place and the number on one line. A bad answer keeps the
    dialog open to try again."""
    ctx.require_coordinator()
    words = (inp.text or "").split()
    if len(words) < 2:
        raise InvalidInput(HOUSEHOLDS_USAGE)
    await dialog_rules.close(ctx, HOUSEHOLDS_FLOW)
    await households(ctx, " ".join(words[:-1]), words[-1])


async def households(ctx: ServiceContext, target: str, number: str) -> None:
    """A coordinator sets the households of a building or a community."""
    ctx.require_coordinator()
    name, value = await measures.set_households(ctx.uow, target, number, ctx.user.id)
    await ctx.tell(ctx.user, P_("{place}: {number} household.", "{place}: {number} households.", "number"),
                   place=name, number=value)
    await ctx.uow.commit()
