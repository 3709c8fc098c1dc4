"""The counts behind the measures (docs/measures.md), for one period and one place: the service
(``bot.services.measures``) turns them into rates. Each query reads one covering index over the
period's rows (``ix_orders_measures``, ``ix_ratings_time``, ``ix_hours_time``,
``ix_orders_status_time``), so a district's month never scans every order.

A place (:class:`Where`) is the whole district, one community (compared ignoring case), one
building (its id, and its community for what has no building) or one team (its id). Statuses come
from the caller: storage never imports ``bot``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal_column,
    select,
    update,
)

from storage.models import Building, HoursEntry, HouseholdCount, Order, Rating, ReachedHousehold, Team, Volunteer
from storage.repositories import _Repository
from storage.summaries import MINUTE_MS

Period = tuple[dt.datetime, dt.datetime]  # UTC [start, end)
Key = int | str | None  # a group's key: a team's id, a community (lower case) or a period's index
GROUP = "measure_group"  # a grouped pass groups by its output column of that name (see Groups)
_GROUPED: ColumnElement[Any] = literal_column(GROUP)
ROWS_BATCH = 5000


@dataclass(frozen=True)
class Where:
    """One place to count in; every field empty: the whole district."""

    community: str | None = None  # lower case
    building_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class Groups:
    """How a grouped pass splits a place's rows, so a report's teams, communities or months take one
    query per kind of count instead of one set of queries each: by ``team`` (its id), by
    ``community`` (lower case) or by ``period`` (the index of consecutive periods whose UTC starts,
    and the last one's end, are ``bounds``). A period's key is a CASE of bound parameters, which
    PostgreSQL cannot match between the select list and GROUP BY: the passes group by the output
    column's name (``GROUP``)."""

    kind: Literal["team", "community", "period"]
    bounds: tuple[dt.datetime, ...] = ()

    def key(self, team: Any, community: Any, time: Any) -> ColumnElement[Any]:
        if self.kind == "team":
            return team  # type: ignore[no-any-return]
        if self.kind == "community":
            return func.lower(community)
        return case(*((time < end, index) for index, end in enumerate(self.bounds[1:])), else_=None)

    def within(self, index: int, time: Any) -> list[ColumnElement[bool]]:
        """``time`` within the period ``index``."""
        return [time >= self.bounds[index], time < self.bounds[index + 1]]


class OrderFigures(NamedTuple):
    """What the rates of orders need of the orders placed in a period (see ``order_figures``)."""

    counted: int
    responded: int
    resolved: int
    households_ordered: int
    median_accept_minutes: float | None
    median_done_minutes: float | None


NO_ORDERS = OrderFigures(0, 0, 0, 0, None, None)


class OrderRow(NamedTuple):
    """One order behind a report (no personal data: no names, phones or addresses)."""

    id: int
    created_at: dt.datetime
    community: str
    building: str
    team: str
    category: str
    status: str
    round: int
    accepted_at: dt.datetime | None
    done_at: dt.datetime | None
    stars: int | None
    no_response: bool


class MeasuresRepository(_Repository):
    # -- households -------------------------------------------------------------------------------------------
    async def set_households(self, community: str, building_id: int | None, households: int,
                             updated_by: int | None) -> None:
        """A building's (or, with no building, a community's own) number of households: replaces
        the one set before."""
        row = await self.session.scalar(select(HouseholdCount).where(
            func.lower(HouseholdCount.community) == community.lower(),
            HouseholdCount.building_id.is_(None) if building_id is None else HouseholdCount.building_id == building_id))
        if row is None:
            self.session.add(HouseholdCount(community=community, building_id=building_id, households=households,
                                            updated_by=updated_by, updated_at=self.clock()))
        else:
            row.households, row.updated_by, row.updated_at = households, updated_by, self.clock()
        await self.session.flush()

    async def households(self, where: Where) -> int:
        """Households in the place: a building's figure; a community's own figure, else the sum of
        its buildings'; the district's, every community so; a team has none."""
        if where.team_id is not None:
            return 0
        if where.building_id is not None:
            return int(await self.session.scalar(select(HouseholdCount.households).where(
                HouseholdCount.building_id == where.building_id)) or 0)
        each = await self.households_by_community()
        return each.get(where.community, 0) if where.community is not None else sum(each.values())

    async def households_by_community(self) -> dict[str, int]:
        """Each community's households (lower case): its own figure, else the sum of its buildings'."""
        rows = (await self.session.execute(select(HouseholdCount.community, HouseholdCount.building_id,
                                                  HouseholdCount.households))).all()
        own: dict[str, int] = {}
        buildings: dict[str, int] = {}
        for community, building_id, households in rows:
            key = community.lower()
            if building_id is None:
                own[key] = households
            else:
                buildings[key] = buildings.get(key, 0) + households
        return {key: own.get(key, buildings.get(key, 0)) for key in own.keys() | buildings.keys()}

    async def reached(self, where: Where, end: dt.datetime) -> int:
        """Households reached by ``end`` (``reached_households``, kept in step by its writers): each
        address a request was placed for, by its resident or by a building leader for a neighbour,
        and each person who came by a building's link and has placed no request yet."""
        if where.team_id is not None:
            return 0
        query = select(func.count()).select_from(ReachedHousehold).where(ReachedHousehold.reached_at < end)
        if where.building_id is not None:
            query = query.where(ReachedHousehold.building_id == where.building_id)
        elif where.community is not None:
            query = query.where(ReachedHousehold.community == where.community)
        return int(await self.session.scalar(query) or 0)

    async def reached_by(self, where: Where, ends: Sequence[dt.datetime]) -> list[int]:
        """Households of the place reached by each of ``ends`` (ascending; a report's months): those
        before the first, then each interval's added, every count a range of ``ix_reached_time``
        (one pass of ten ``CASE`` sums over every row was slower)."""
        if where.team_id is not None or not ends:
            return [0] * len(ends)
        place: list[ColumnElement[bool]] = []
        if where.building_id is not None:
            place.append(ReachedHousehold.building_id == where.building_id)
        elif where.community is not None:
            place.append(ReachedHousehold.community == where.community)
        counts = [await self.session.scalar(select(func.count()).select_from(ReachedHousehold).where(
            *place, ReachedHousehold.reached_at < ends[0]))]
        for start, end in itertools.pairwise(ends):
            counts.append(await self.session.scalar(select(func.count()).select_from(ReachedHousehold).where(
                *place, ReachedHousehold.reached_at >= start, ReachedHousehold.reached_at < end)))
        return list(itertools.accumulate(int(n or 0) for n in counts))

    async def reached_by_community(self, end: dt.datetime) -> dict[str, int]:
        """Households reached by ``end`` in each community (lower case), in one pass."""
        rows = await self.session.execute(select(ReachedHousehold.community, func.count())
                                          .where(ReachedHousehold.reached_at < end)
                                          .group_by(ReachedHousehold.community))
        return {community: int(n) for community, n in rows.all()}

    async def reach_person(self, user_id: int, building: Building) -> None:
        """Someone came by ``building``'s link: a household of its own until they ask for help
        (their request's address then takes its place), unless they already have."""
        if await self.session.scalar(select(Order.id).where(Order.resident_id == user_id,
                                                            Order.on_behalf.is_(False)).limit(1)) is not None:
            return
        await self.session.execute(self._insert(ReachedHousehold).values(
            key=f"u{user_id}", community=building.community.strip().lower(), building_id=building.id,
            reached_at=self.clock()).on_conflict_do_nothing(index_elements=["key"]))

    # -- orders -----------------------------------------------------------------------------------------------
    @staticmethod
    def _place(where: Where, order: Any) -> list[ColumnElement[bool]]:
        if where.team_id is not None:
            return [order.team_id == where.team_id]
        if where.building_id is not None:
            return [order.building_id == where.building_id]
        if where.community is not None:
            return [func.lower(order.community) == where.community]
        return []

    def _minutes(self, start: Any, end: Any) -> ColumnElement[Any]:
        """Whole minutes from ``start`` to ``end`` worked out by the database (no datetimes to
        parse): started minutes of the difference taken to the millisecond — the same arithmetic as
        the summaries' triggers (``storage.summaries.Sql.minutes``), so both agree."""
        if self._postgresql():
            ms = cast(func.round(cast(func.extract("epoch", end - start), Numeric) * 1000), BigInteger)
        else:
            ms = cast(func.round((func.julianday(end) - func.julianday(start)) * 86_400_000), Integer)
        return (ms + (MINUTE_MS - 1)) // MINUTE_MS

    async def _grouped(self, query: Any, key: ColumnElement[Any]) -> Sequence[Any]:
        """``query``'s rows for each group, its key last."""
        return (await self.session.execute(query.add_columns(key.label(GROUP)).group_by(_GROUPED))).all()

    async def order_figures(self, where: Where, period: Period, *, refused: Sequence[str], withdrawn: str,
                            finished: Sequence[str], response_minutes: int) -> OrderFigures:
        """The orders placed in the period, counted by the database in one pass over the index
        (docs/measures.md): those counted (not ``refused``, nor ``withdrawn`` before any accept),
        accepted within ``response_minutes``, ``finished`` in their first round; the households
        that asked; and the medians to the first accept and the last done."""
        figures = await self.order_figures_by(where, period, None, refused=refused, withdrawn=withdrawn,
                                              finished=finished, response_minutes=response_minutes)
        return figures.get(None, NO_ORDERS)

    async def order_figures_by(self, where: Where, period: Period, groups: Groups | None, *, refused: Sequence[str],
                               withdrawn: str, finished: Sequence[str], response_minutes: int
                               ) -> dict[Key, OrderFigures]:
        """``order_figures`` of each group that has orders (all in one pass, the medians in one
        more each); with no ``groups``, the place's under the key None."""
        start, end = period
        in_period = [Order.created_at >= start, Order.created_at < end, *self._place(where, Order)]
        counted = and_(Order.status.not_in(list(refused)),
                       ~and_(Order.status == withdrawn, Order.accepted_at.is_(None)))
        to_accept, to_done = self._minutes(Order.created_at, Order.accepted_at), self._minutes(Order.created_at,
                                                                                              Order.done_at)
        accepted = and_(counted, Order.accepted_at.is_not(None))
        done = and_(counted, Order.done_at.is_not(None), Order.status.in_(list(finished)))
        key = None if groups is None else groups.key(Order.team_id, Order.community, Order.created_at)

        def number(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = select(
            number(counted), number(and_(accepted, to_accept <= response_minutes)),
            number(and_(counted, Order.status.in_(list(finished)), Order.round == 1)),
            func.count(distinct(case((Order.on_behalf.is_(False), Order.resident_id)))),
            number(Order.on_behalf.is_(True)),
            number(accepted), number(done)).where(*in_period)
        if key is None:
            row = (await self.session.execute(query)).one()
            return {None: OrderFigures(int(row[0]), int(row[1]), int(row[2]), int(row[3]) + int(row[4]),
                                       await self._median(to_accept, accepted, in_period, int(row[5])),
                                       await self._median(to_done, done, in_period, int(row[6])))}
        rows = await self._grouped(query, key)
        if groups is not None and groups.kind == "period":
            # each period's medians from its own range of the index: sorting each month apart is
            # faster than numbering the whole year's rows within their months
            at = self._place(where, Order)
            return {row[7]: OrderFigures(
                int(row[0]), int(row[1]), int(row[2]), int(row[3]) + int(row[4]),
                await self._median(to_accept, accepted, [*groups.within(row[7], Order.created_at), *at], int(row[5])),
                await self._median(to_done, done, [*groups.within(row[7], Order.created_at), *at], int(row[6])))
                for row in rows}
        to_accepts = await self._medians(to_accept, accepted, in_period, key)
        to_dones = await self._medians(to_done, done, in_period, key)
        return {row[7]: OrderFigures(int(row[0]), int(row[1]), int(row[2]), int(row[3]) + int(row[4]),
                                     to_accepts.get(row[7]), to_dones.get(row[7])) for row in rows}

    async def _median(self, value: ColumnElement[Any], condition: ColumnElement[bool],
                      in_period: list[ColumnElement[bool]], count: int) -> float | None:
        """The middle ``value`` of the ``count`` rows matching (the mean of the two middle ones)."""
        if not count:
            return None
        middle = (await self.session.scalars(select(value).where(*in_period, condition).order_by(value)
                                             .offset((count - 1) // 2).limit(2 - count % 2))).all()
        return _middle([float(v) for v in middle])

    async def _medians(self, value: ColumnElement[Any], condition: ColumnElement[bool],
                       in_period: list[ColumnElement[bool]], key: ColumnElement[Any]) -> dict[Key, float]:
        """``_median`` of each group, in one pass: the rows numbered within their group, the middle
        one or two kept (rank r of n is in the middle when n <= 2r <= n + 2)."""
        ranked = select(key.label("key"), value.label("value"),
                        func.row_number().over(partition_by=key, order_by=value).label("rank"),
                        func.count().over(partition_by=key).label("n")).where(*in_period, condition).subquery()
        rows = await self.session.execute(
            select(ranked.c.key, ranked.c.value)
            .where(2 * ranked.c.rank >= ranked.c.n, 2 * ranked.c.rank <= ranked.c.n + 2)
            .order_by(ranked.c.key, ranked.c.value))
        middles: dict[Key, list[float]] = {}
        for group, middle in rows.all():
            middles.setdefault(group, []).append(float(middle))
        return {group: _middle(values) for group, values in middles.items()}

    async def ratings(self, where: Where, period: Period, served_by: str, satisfied_from: int) -> tuple[int, int]:
        """Ratings given in the period, and those at ``satisfied_from`` stars or more ("not solved"
        has none). A team's are those of the rounds it served (its ledger entries of source
        ``served_by``: a reopening takes the order from the team, not the rating)."""
        return (await self.ratings_by(where, period, None, served_by, satisfied_from)).get(None, (0, 0))

    async def ratings_by(self, where: Where, period: Period, groups: Groups | None, served_by: str,
                         satisfied_from: int) -> dict[Key, tuple[int, int]]:
        """``ratings`` of each group that has any, in one pass (a team's through its ledger entries)."""
        start, end = period
        query = select(func.count(), func.coalesce(func.sum(case((Rating.stars >= satisfied_from, 1), else_=0)), 0)
                       ).select_from(Rating).where(Rating.created_at >= start, Rating.created_at < end)
        place = self._place(where, Order)
        by_team = groups is not None and groups.kind == "team"
        if where.team_id is not None or by_team:
            query = query.join(HoursEntry, and_(HoursEntry.order_id == Rating.order_id,
                                                HoursEntry.round == Rating.round, HoursEntry.source == served_by))
            if where.team_id is not None:
                query = query.where(HoursEntry.team_id == where.team_id)
        if where.team_id is None and (place or (groups is not None and groups.kind == "community")):
            query = query.join(Order, Order.id == Rating.order_id).where(*place)
        if groups is None:
            given, satisfied = (await self.session.execute(query)).one()
            return {None: (int(given), int(satisfied))}
        key = groups.key(HoursEntry.team_id, Order.community, Rating.created_at)
        rows = await self._grouped(query, key)
        return {group: (int(given), int(satisfied)) for given, satisfied, group in rows}

    async def unrated(self, where: Where, period: Period, closed: str) -> int:
        """Orders closed in the period because the resident never rated them."""
        return (await self.unrated_by(where, period, None, closed)).get(None, 0)

    async def unrated_by(self, where: Where, period: Period, groups: Groups | None, closed: str) -> dict[Key, int]:
        """``unrated`` of each group that has any, in one pass."""
        start, end = period
        query = (select(func.count()).select_from(Order)
                 .where(Order.status == closed, Order.updated_at >= start, Order.updated_at < end,
                        Order.no_response.is_(True), *self._place(where, Order)))
        if groups is None:
            return {None: int(await self.session.scalar(query) or 0)}
        key = groups.key(Order.team_id, Order.community, Order.updated_at)
        return {group: int(n) for n, group in await self._grouped(query, key)}

    # -- volunteers -------------------------------------------------------------------------------------------
    def _members(self, where: Where, community: str | None) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Volunteer.status == "approved"]
        if where.team_id is not None:
            conditions.append(Volunteer.team_id == where.team_id)
        elif community is not None:
            conditions.append(func.lower(Volunteer.community) == community)
        return conditions

    async def volunteers(self, where: Where, community: str | None) -> int:
        """Approved volunteers of the place (a person in two teams once; roster rows without an
        account each once). ``community``: the place's community (a building's, for a building)."""
        return (await self.volunteers_by(where, community, None)).get(None, 0)

    async def volunteers_by(self, where: Where, community: str | None, groups: Groups | None) -> dict[Key, int]:
        """``volunteers`` of each team or community (not by period: a roster has no time), one pass."""
        members = self._members(where, community)
        query = select(func.count(distinct(Volunteer.user_id)),
                       func.coalesce(func.sum(case((Volunteer.user_id.is_(None), 1), else_=0)), 0)).where(*members)
        if groups is None:
            with_account, without = (await self.session.execute(query)).one()
            return {None: int(with_account or 0) + int(without or 0)}
        # "+ 0": SQLite would otherwise go through ix_volunteers_team and read every row, not
        # ix_volunteers_measures alone (0.47 s against 0.07 s at district scale)
        key = groups.key(Volunteer.team_id + 0, Volunteer.community, None)
        rows = await self._grouped(query, key)
        return {group: int(with_account or 0) + int(without or 0) for with_account, without, group in rows}

    async def served(self, where: Where, community: str | None, period: Period, sources: Sequence[str]) -> int:
        """Approved volunteers of the place with a ledger entry of ``sources`` served in the period
        (for a team: served for that team). Each entry's person is looked up in
        ``ix_volunteers_measures`` alone."""
        return (await self.served_by(where, community, period, None, sources)).get(None, 0)

    async def served_by(self, where: Where, community: str | None, period: Period, groups: Groups | None,
                        sources: Sequence[str]) -> dict[Key, int]:
        """``served`` of each group that has any, in one pass: by team, those who served for the
        team and are its members; by community, each person once in each community they are a
        member of."""
        start, end = period
        in_period = [HoursEntry.served_at >= start, HoursEntry.served_at < end, HoursEntry.source.in_(list(sources))]
        if groups is not None and groups.kind == "community":
            pairs = (select(func.lower(Volunteer.community).label("key"), HoursEntry.user_id)
                     .join(Volunteer, Volunteer.user_id == HoursEntry.user_id)
                     .where(*in_period, *self._members(where, community)).distinct().subquery())
            rows = await self.session.execute(select(pairs.c.key, func.count()).group_by(pairs.c.key))
            return {group: int(n) for group, n in rows.all()}
        members = self._members(where, community)
        if groups is not None and groups.kind == "team":
            members.append(Volunteer.team_id == HoursEntry.team_id)
        query = select(func.count(distinct(HoursEntry.user_id))).where(
            *in_period, exists().where(Volunteer.user_id == HoursEntry.user_id, *members))
        if where.team_id is not None:
            query = query.where(HoursEntry.team_id == where.team_id)
        if groups is None:
            return {None: int(await self.session.scalar(query) or 0)}
        if groups.kind == "team":
            key = groups.key(HoursEntry.team_id, None, None)
            return {group: int(n) for n, group in await self._grouped(query, key)}
        # by period: each (month, person) once first, then each person checked once a month, not
        # once an entry (a third faster on SQLite over a year's ledger)
        months = select(groups.key(None, None, HoursEntry.served_at).label(GROUP), HoursEntry.user_id
                        ).where(*in_period)
        if where.team_id is not None:
            months = months.where(HoursEntry.team_id == where.team_id)
        each = months.distinct().subquery()
        rows = await self.session.execute(
            select(each.c[GROUP], func.count())
            .where(exists().where(Volunteer.user_id == each.c.user_id, *self._members(where, community)))
            .group_by(each.c[GROUP]))
        return {group: int(n) for group, n in rows.all()}

    # -- what reports name ------------------------------------------------------------------------------------
    async def communities(self) -> list[str]:
        """Every community the district knows: of buildings, household figures and volunteers."""
        names: dict[str, str] = {}
        for query in (select(Building.community), select(HouseholdCount.community),
                      select(Volunteer.community).where(Volunteer.status == "approved", Volunteer.community != "")):
            for name in (await self.session.scalars(query.distinct())).all():
                names.setdefault(name.lower(), name)
        return sorted(names.values())

    async def order_rows(self, where: Where, period: Period, *, batch: int = ROWS_BATCH
                         ) -> AsyncIterator[list[OrderRow]]:
        """The orders placed in the period, in id order, in keyset pages, with their last rating."""
        start, end = period
        stars = (select(Rating.stars).where(Rating.order_id == Order.id).order_by(Rating.round.desc()).limit(1)
                 .scalar_subquery())
        query = (select(Order.id, Order.created_at, Order.community, Order.building,
                        func.coalesce(Team.code, ""), Order.category, Order.status, Order.round, Order.accepted_at,
                        Order.done_at, stars, Order.no_response)
                 .outerjoin(Team, Team.id == Order.team_id)
                 .where(Order.created_at >= start, Order.created_at < end, *self._place(where, Order))
                 .order_by(Order.id).limit(batch))
        after = 0
        while True:
            page = (await self.session.execute(query.where(Order.id > after))).all()
            if not page:
                return
            after = page[-1][0]
            yield [OrderRow._make(row) for row in page]
            if len(page) < batch:
                return

    async def mark(self, order_id: int, *, accepted: bool) -> None:
        """Record an order's first accept (kept) or its latest done (overwritten)."""
        now = self.clock()
        if accepted:
            await self.session.execute(update(Order).where(Order.id == order_id, Order.accepted_at.is_(None))
                                       .values(accepted_at=now).execution_options(synchronize_session=False))
        else:
            await self.session.execute(update(Order).where(Order.id == order_id).values(done_at=now)
                                       .execution_options(synchronize_session=False))


def _middle(values: list[float]) -> float:
    """The mean of a median's middle one or two values, as reports round it."""
    return round(sum(values) / len(values), 2)
