"""The rates (docs/measures.md), defined once: 知晓率, 参与率, 满意率, 响应率, 解决率 and the medians,
for any period and place, each a numerator and a denominator; the report's data (the place's
figures, month by month for the year to date, by team and by community); and the households that
知晓率 divides by, set by coordinators or imported.

Periods are local days in the centre's time zone, turned into UTC bounds by the ledger's own
helper (:func:`bot.services.hours.days_period`), so a report's month is the hours' month.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import satisfaction
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.lifecycle import FINISHED, OrderStatus
from bot.domain.measures import Measures, Period, Rate, Scope
from bot.i18n import N_
from bot.services.context import MeasureConfig
from bot.services.hours import days_period
from storage.ledger import ORDER, SERVED
from storage.measures import NO_ORDERS, Groups, Key, OrderFigures, OrderRow, Where
from storage.summaries import COMMUNITY, DISTRICT, TEAM, Cell
from storage.uow import UnitOfWork

MAX_HOUSEHOLDS = 100_000  # one building or community; more is surely a typo
SATISFIED_FROM = satisfaction.MOSTLY  # 满意/基本满意: 4 and above on the scale


# -- places and periods -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """A scope found in the database: what to count (``where``), the community its volunteers are
    counted in (a building's), and its name for people."""

    scope: Scope
    where: Where
    community: str | None
    name: str


async def place(uow: UnitOfWork, scope: Scope) -> Place:
    """The scope as the database knows it; NotFound for an unknown team, building or community."""
    if scope.kind == "team":
        team = await uow.teams.by_code(scope.key)
        if team is None:
            raise NotFound(N_("There is no team {code}."), code=scope.key)
        return Place(Scope("team", team.code), Where(team_id=team.id), None, team.name)
    if scope.kind == "building":
        building = await uow.buildings.by_code(scope.key)
        if building is None:
            raise NotFound(N_("There is no building {code}."), code=scope.key)
        community = building.community.lower()
        return Place(Scope("building", building.code), Where(building_id=building.id, community=community),
                     community, f"{building.community} {building.name}")
    if scope.kind == "community":
        known = {name.lower(): name for name in await uow.measures.communities()}
        name = known.get(scope.key.strip().lower())
        if name is None:
            raise NotFound(N_("There is no community {name}."), name=scope.key)
        return Place(Scope("community", name), Where(community=name.lower()), name.lower(), name)
    return Place(Scope(), Where(), None, "")


def utc(period: Period, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    return days_period(tz, period.start, period.end - dt.timedelta(days=1))


def months_to(period: Period) -> list[Period]:
    """The months of the year of the period's last day, up to that day's month: the year to date."""
    last = period.end - dt.timedelta(days=1)
    return [Period.month(last.year, m) for m in range(1, last.month + 1)]


# -- the rates ----------------------------------------------------------------------------------------------------
_REFUSED = (OrderStatus.REJECTED,)  # refused by the centre: not an order the loop had to answer


async def measure(uow: UnitOfWork, config: MeasureConfig, where: Place, period: Period, tz: ZoneInfo) -> Measures:
    """Every rate of ``where`` in ``period``."""
    bounds = utc(period, tz)
    orders = await uow.measures.order_figures(where.where, bounds, **_order_terms(config))
    reached = await uow.measures.reached(where.where, bounds[1])
    return _rates(where.scope.kind == "team", orders, await uow.measures.ratings(where.where, bounds, ORDER,
                                                                                 SATISFIED_FROM),
                  await uow.measures.unrated(where.where, bounds, OrderStatus.CLOSED),
                  Rate(reached, await uow.measures.households(where.where)),
                  Rate(await uow.measures.served(where.where, where.community, bounds, SERVED),
                       await uow.measures.volunteers(where.where, where.community)))


def _order_terms(config: MeasureConfig) -> dict[str, Any]:
    # minutes are whole (started) minutes: accepted within N minutes is at most N of them
    return {"refused": _REFUSED, "withdrawn": OrderStatus.CANCELLED, "finished": sorted(FINISHED),
            "response_minutes": config.response_minutes}


def _rates(team: bool, orders: OrderFigures, ratings: tuple[int, int], unrated: int, awareness: Rate,
           volunteers_served: Rate) -> Measures:
    """The rates from their counts: one place's (``measure``) or one group's (``each``) alike."""
    given, satisfied = ratings
    return Measures(
        awareness=awareness, volunteers_served=volunteers_served,
        # a team has no households of its own: both household rates are "—" for it
        residents_ordered=Rate(0, 0) if team else Rate(orders.households_ordered, awareness.numerator),
        satisfaction=Rate(satisfied, given),
        unrated=Rate(unrated, given + unrated),
        response=Rate(orders.responded, orders.counted), resolution=Rate(orders.resolved, orders.counted),
        median_accept_minutes=orders.median_accept_minutes, median_done_minutes=orders.median_done_minutes)


async def each(uow: UnitOfWork, config: MeasureConfig, where: Place, bounds: tuple[dt.datetime, dt.datetime],
                groups: Groups, keys: list[Key]) -> list[Measures]:
    """``measure`` of each of ``keys`` (teams' ids, communities in lower case or months' indexes)
    within ``where``, the counts of all of them taken in one grouped pass per kind of count (a
    district's report: 4 passes for its 20 teams, not 20 times 8)."""
    m = uow.measures
    orders = await m.order_figures_by(where.where, bounds, groups, **_order_terms(config))
    ratings = await m.ratings_by(where.where, bounds, groups, ORDER, SATISFIED_FROM)
    unrated = await m.unrated_by(where.where, bounds, groups, OrderStatus.CLOSED)
    served = await m.served_by(where.where, where.community, bounds, groups, SERVED)
    reached: dict[Key, int] = {}
    households: dict[Key, int] = {}
    if groups.kind == "period":  # the roster and the households have no month: the place's, each month
        reached.update(enumerate(await m.reached_by(where.where, groups.bounds[1:])))
        households.update(dict.fromkeys(keys, await m.households(where.where)))
        volunteers: dict[Key, int] = dict.fromkeys(keys, await m.volunteers(where.where, where.community))
    else:
        if groups.kind == "community":  # a team has no households
            reached.update(await m.reached_by_community(bounds[1]))
            households.update(await m.households_by_community())
        volunteers = await m.volunteers_by(where.where, where.community, groups)
    team = where.scope.kind == "team" or groups.kind == "team"
    return [_rates(team, orders.get(key, NO_ORDERS), ratings.get(key, (0, 0)), unrated.get(key, 0),
                   Rate(reached.get(key, 0), households.get(key, 0)),
                   Rate(served.get(key, 0), volunteers.get(key, 0))) for key in keys]


# -- the report ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportData:
    """A report: the place's figures for the period, the year to date month by month, the teams
    side by side and the communities (within the place: a team's report has only its team)."""

    place: Place
    period: Period
    measures: Measures
    by_month: list[tuple[Period, Measures]]
    by_team: list[tuple[str, Measures]]
    by_community: list[tuple[str, Measures]]


async def report_data(uow: UnitOfWork, config: MeasureConfig, scope: Scope, period: Period,
                      tz: ZoneInfo) -> ReportData:
    """The report's figures: from the summaries when they serve the months exactly (docs/measures.md,
    "Summaries"), else every month of the year to date in one grouped pass over the raw rows, the
    district's teams in another and its communities in a third ("Speed"); each group's figures are
    exactly its own ``measure``'s either way."""
    where = await place(uow, scope)
    months = months_to(period)
    if await summaries_serve(uow, where, months, tz):
        return await _report_from_summaries(uow, config, where, period, months, tz)
    starts = [utc(month, tz)[0] for month in months]
    year = (starts[0], utc(months[-1], tz)[1])
    monthly = await each(uow, config, where, year, Groups("period", (*starts, year[1])), list(range(len(months))))
    by_month = list(zip(months, monthly, strict=True))
    figures = monthly[-1] if months[-1] == period else await measure(uow, config, where, period, tz)
    return ReportData(where, period, figures, by_month, *await _groups_raw(uow, config, where, period, tz, figures))


SideBySide = tuple[list[tuple[str, Measures]], list[tuple[str, Measures]]]  # (by team, by community)


async def _groups_raw(uow: UnitOfWork, config: MeasureConfig, where: Place, period: Period, tz: ZoneInfo,
                      figures: Measures) -> SideBySide:
    """The report's teams and communities: a team's or a community's own ``figures``; the district's
    teams and communities in the period, each kind in one grouped pass over the raw rows."""
    if where.scope.kind == "team":
        return [(where.scope.key, figures)], []
    if where.scope.kind == "community":
        return [], [(where.scope.key, figures)]
    if where.scope.kind != "district":
        return [], []
    bounds = utc(period, tz)
    teams = await uow.teams.every()
    by_team = list(zip([t.code for t in teams],
                       await each(uow, config, where, bounds, Groups("team"), [t.id for t in teams]), strict=True))
    names = await uow.measures.communities()
    by_community = list(zip(names, await each(uow, config, where, bounds, Groups("community"),
                                               [name.lower() for name in names]), strict=True))
    return by_team, by_community


# -- the report from the summaries --------------------------------------------------------------------------------
def month_number(month: Period) -> int:
    """A month as the summaries key it: yyyymm."""
    return month.start.year * 100 + month.start.month


async def summaries_serve(uow: UnitOfWork, where: Place, months: list[Period], tz: ZoneInfo) -> bool:
    """Whether the summaries hold exactly these months of this place: their months are cut at one
    fixed UTC offset, which must be where ``tz`` starts and ends each month; a building's figures are
    not summarized (its report reads the raw rows, a small range of the index)."""
    if where.scope.kind == "building":
        return False
    offset = await uow.summaries.offset()
    if offset is None:
        return False
    shift = dt.timedelta(minutes=offset)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), dt.UTC) - shift

    return all(utc(month, tz) == (midnight(month.start), midnight(month.end)) for month in months)


def _axis(where: Place) -> tuple[str, str]:
    if where.where.team_id is not None:
        return TEAM, str(where.where.team_id)
    if where.where.community is not None:
        return COMMUNITY, where.where.community
    return DISTRICT, ""


@dataclass(frozen=True)
class _Numerators:
    orders: OrderFigures
    ratings: tuple[int, int]
    unrated: int
    served: int


async def _numerators(uow: UnitOfWork, config: MeasureConfig, axis: str, months: list[int],
                      key: str | None) -> dict[Cell, _Numerators]:
    """Every count of ``axis`` in ``months`` (one ``key``, or all), per (month, key)."""
    counts = await uow.summaries.counts(months, axis, key)
    accepted = await uow.summaries.minutes("a", months, axis, key, config.response_minutes)
    done = await uow.summaries.minutes("d", months, axis, key, config.response_minutes)
    result: dict[Cell, _Numerators] = {}
    for cell in counts.keys() | accepted.keys() | done.keys():
        c = counts.get(cell, {})
        _, responded, median_accept = accepted.get(cell, (0, 0, None))
        median_done = done.get(cell, (0, 0, None))[2]
        result[cell] = _Numerators(
            OrderFigures(c.get("counted", 0), responded, c.get("resolved", 0), c.get("homes", 0) + c.get("behalf", 0),
                         median_accept, median_done),
            (c.get("given", 0), c.get("satisfied", 0)), c.get("unrated", 0), c.get("served", 0))
    return result


_NOTHING = _Numerators(NO_ORDERS, (0, 0), 0, 0)


def _from(team: bool, numerators: _Numerators, awareness: Rate, volunteers: int) -> Measures:
    return _rates(team, numerators.orders, numerators.ratings, numerators.unrated, awareness,
                  Rate(numerators.served, volunteers))


async def _reached(uow: UnitOfWork, months: list[int], axis: str, key: str | None) -> dict[Cell, int]:
    """Households reached by the end of each of ``months``, per key (totals carried forward)."""
    added = await uow.summaries.reached(months[-1], axis, key)
    keys = {k for _, k in added}
    result: dict[Cell, int] = {}
    for k in keys:
        total = sum(n for (month, found), n in added.items() if found == k and month < months[0])
        for month in months:
            total += added.get((month, k), 0)
            result[(month, k)] = total
    return result


async def _months_from_summaries(uow: UnitOfWork, config: MeasureConfig, where: Place,
                                 months: list[Period]) -> list[tuple[Period, Measures]]:
    """The place's figures of each of ``months``, read from the summaries (which must serve them)."""
    axis, key = _axis(where)
    numbers = [month_number(month) for month in months]
    team = axis == TEAM
    numerators = await _numerators(uow, config, axis, numbers, key)
    reached = await _reached(uow, numbers, axis, key) if not team else {}
    households = await uow.measures.households(where.where)
    volunteers = (await uow.summaries.members(axis, key)).get(key, 0)
    return [(month, _from(team, numerators.get((n, key), _NOTHING), Rate(reached.get((n, key), 0), households),
                          volunteers)) for month, n in zip(months, numbers, strict=True)]


async def measure_quickly(uow: UnitOfWork, config: MeasureConfig, where: Place, period: Period,
                       tz: ZoneInfo) -> Measures:
    """``measure``'s figures, read from the summaries when they hold the period as one whole month
    (``/report``'s text: a few rows instead of a pass over the month's orders and ledger), else
    counted from the raw rows by ``measure`` itself."""
    if months_to(period)[-1] == period and await summaries_serve(uow, where, [period], tz):
        return (await _months_from_summaries(uow, config, where, [period]))[0][1]
    return await measure(uow, config, where, period, tz)


async def _report_from_summaries(uow: UnitOfWork, config: MeasureConfig, where: Place, period: Period,
                                 months: list[Period], tz: ZoneInfo) -> ReportData:
    numbers = [month_number(month) for month in months]
    by_month = await _months_from_summaries(uow, config, where, months)
    whole_month = months[-1] == period
    figures = by_month[-1][1] if whole_month else await measure(uow, config, where, period, tz)
    if where.scope.kind == "district" and whole_month:
        last = numbers[-1:]
        teams = await uow.teams.every()
        of_teams = await _numerators(uow, config, TEAM, last, None)
        members = await uow.summaries.members(TEAM)
        by_team = [(t.code, _from(True, of_teams.get((last[0], str(t.id)), _NOTHING), Rate(0, 0),
                                  members.get(str(t.id), 0))) for t in teams]
        names = await uow.measures.communities()
        of_communities = await _numerators(uow, config, COMMUNITY, last, None)
        reached_by = await _reached(uow, last, COMMUNITY, None)
        homes = await uow.measures.households_by_community()
        members = await uow.summaries.members(COMMUNITY)
        by_community = [(name, _from(False, of_communities.get((last[0], name.lower()), _NOTHING),
                                     Rate(reached_by.get((last[0], name.lower()), 0), homes.get(name.lower(), 0)),
                                     members.get(name.lower(), 0))) for name in names]
    else:
        by_team, by_community = await _groups_raw(uow, config, where, period, tz, figures)
    return ReportData(where, period, figures, by_month, by_team, by_community)


async def rebuild_summaries(uow: UnitOfWork, tz: ZoneInfo, now: dt.datetime) -> int:
    """Every summary recomputed from the raw rows, months cut at ``tz``'s offset now (minutes east
    of UTC; a zone with summer time is served for the months its offset is this one, the others
    read the raw rows): after a change of ``[measures]``' zone, or to check them."""
    offset = now.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    await uow.summaries.rebuild(minutes)
    return minutes


async def orders_behind(uow: UnitOfWork, data: ReportData, tz: ZoneInfo) -> AsyncIterator[list[OrderRow]]:
    """The orders placed in the report's place and period, in pages."""
    async for page in uow.measures.order_rows(data.place.where, utc(data.period, tz)):
        yield page


# -- households ---------------------------------------------------------------------------------------------------
def households_number(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(N_("Please type the number of households as a whole number, e.g. 120.")) from None
    if not 0 <= value <= MAX_HOUSEHOLDS:
        raise InvalidInput(N_("Please type the number of households as a whole number, e.g. 120."))
    return value


async def set_households(uow: UnitOfWork, target: str, text: str, actor_id: int | None) -> tuple[str, int]:
    """Households of a building (by code) or a community (by name): (its name, the number). The
    audit trail keeps the change."""
    value = households_number(text)
    building = await uow.buildings.by_code(target.strip())
    if building is not None:
        await uow.measures.set_households(building.community, building.id, value, actor_id)
        await uow.audit.record(actor_id, "building", building.id, "households", households=value)
        return f"{building.community} {building.name}", value
    known = {name.lower(): name for name in await uow.measures.communities()}
    name = known.get(target.strip().lower())
    if name is None:
        raise NotFound(N_("There is no building or community {name}."), name=target)
    await uow.measures.set_households(name, None, value, actor_id)
    await uow.audit.record(actor_id, "community", 0, "households", community=name, households=value)
    return name, value


@dataclass(frozen=True)
class ImportReport:
    rows: int
    errors: list[str]


async def import_households(uow_factory: Callable[[], UnitOfWork], path: Path) -> ImportReport:
    """A CSV of ``building`` (a building's code, or empty) and ``community`` and ``households``: a
    building's households when the code is given, else the community's own figure. Bad rows are
    reported by line and skipped; the rest is written in one transaction."""
    errors: list[str] = []
    rows = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    async with uow_factory() as uow:
        for number, line in enumerate(lines, start=2):
            building = (line.get("building") or "").strip()
            community = (line.get("community") or "").strip()
            try:
                value = households_number(line.get("households") or "")
            except InvalidInput:
                errors.append(f"line {number}: households must be a whole number from 0 to {MAX_HOUSEHOLDS}")
                continue
            if building:
                found = await uow.buildings.by_code(building)
                if found is None:
                    errors.append(f"line {number}: no building {building!r}")
                    continue
                await uow.measures.set_households(found.community, found.id, value, None)
            elif community:
                await uow.measures.set_households(community, None, value, None)
            else:
                errors.append(f"line {number}: give a building code or a community")
                continue
            rows += 1
        await uow.commit()
    return ImportReport(rows, errors)
