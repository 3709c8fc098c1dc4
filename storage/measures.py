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
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Float, and_, case, cast, distinct, exists, func, select, update

from storage.models import Building, HoursEntry, HouseholdCount, Order, Rating, ReachedHousehold, Team, Volunteer
from storage.repositories import _Repository

Period = tuple[dt.datetime, dt.datetime]  # UTC [start, end)
ROWS_BATCH = 5000


@dataclass(frozen=True)
class Where:
    """One place to count in; every field empty: the whole district."""

    community: str | None = None  # lower case
    building_id: int | None = None
    team_id: int | None = None


class OrderFigures(NamedTuple):
    """What the rates of orders need of the orders placed in a period (see ``order_figures``)."""

    counted: int
    responded: int
    resolved: int
    households_ordered: int
    median_accept_minutes: float | None
    median_done_minutes: float | None


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
        rows = (await self.session.execute(select(HouseholdCount.community, HouseholdCount.building_id,
                                                  HouseholdCount.households))).all()
        own: dict[str, int] = {}
        buildings: dict[str, int] = {}
        for community, building_id, households in rows:
            key = community.lower()
            if where.community is not None and key != where.community:
                continue
            if building_id is None:
                own[key] = households
            else:
                buildings[key] = buildings.get(key, 0) + households
        return sum(own.get(key, buildings.get(key, 0)) for key in own.keys() | buildings.keys())

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
        """Minutes from ``start`` to ``end`` worked out by the database (no datetimes to parse)."""
        if self._postgresql():
            return cast(func.extract("epoch", end - start), Float) / 60
        return (func.julianday(end) - func.julianday(start)) * 1440

    async def order_figures(self, where: Where, period: Period, *, refused: Sequence[str], withdrawn: str,
                            finished: Sequence[str], response_minutes: float) -> OrderFigures:
        """The orders placed in the period, counted by the database in one pass over the index
        (docs/measures.md): those counted (not ``refused``, nor ``withdrawn`` before any accept),
        accepted within ``response_minutes``, ``finished`` in their first round; the households
        that asked; and the medians to the first accept and the last done."""
        start, end = period
        in_period = [Order.created_at >= start, Order.created_at < end, *self._place(where, Order)]
        counted = and_(Order.status.not_in(list(refused)),
                       ~and_(Order.status == withdrawn, Order.accepted_at.is_(None)))
        to_accept, to_done = self._minutes(Order.created_at, Order.accepted_at), self._minutes(Order.created_at,
                                                                                              Order.done_at)
        accepted = and_(counted, Order.accepted_at.is_not(None))
        done = and_(counted, Order.done_at.is_not(None), Order.status.in_(list(finished)))

        def number(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        row = (await self.session.execute(select(
            number(counted), number(and_(accepted, to_accept <= response_minutes)),
            number(and_(counted, Order.status.in_(list(finished)), Order.round == 1)),
            func.count(distinct(case((Order.on_behalf.is_(False), Order.resident_id)))),
            number(Order.on_behalf.is_(True)),
            number(accepted), number(done)).where(*in_period))).one()
        return OrderFigures(int(row[0]), int(row[1]), int(row[2]), int(row[3]) + int(row[4]),
                            await self._median(to_accept, accepted, in_period, int(row[5])),
                            await self._median(to_done, done, in_period, int(row[6])))

    async def _median(self, value: ColumnElement[Any], condition: ColumnElement[bool],
                      in_period: list[ColumnElement[bool]], count: int) -> float | None:
        """The middle ``value`` of the ``count`` rows matching (the mean of the two middle ones)."""
        if not count:
            return None
        middle = (await self.session.scalars(select(value).where(*in_period, condition).order_by(value)
                                             .offset((count - 1) // 2).limit(2 - count % 2))).all()
        return round(sum(float(v) for v in middle) / len(middle), 2)

    async def ratings(self, where: Where, period: Period, served_by: str, satisfied_from: int) -> tuple[int, int]:
        """Ratings given in the period, and those at ``satisfied_from`` stars or more ("not solved"
        has none). A team's are those of the rounds it served (its ledger entries of source
        ``served_by``: a reopening takes the order from the team, not the rating)."""
        start, end = period
        query = select(func.count(), func.coalesce(func.sum(case((Rating.stars >= satisfied_from, 1), else_=0)), 0)
                       ).select_from(Rating).where(Rating.created_at >= start, Rating.created_at < end)
        place = self._place(where, Order)
        if where.team_id is not None:
            query = query.join(HoursEntry, and_(HoursEntry.order_id == Rating.order_id,
                                                HoursEntry.round == Rating.round, HoursEntry.source == served_by)
                               ).where(HoursEntry.team_id == where.team_id)
        elif place:
            query = query.join(Order, Order.id == Rating.order_id).where(*place)
        given, satisfied = (await self.session.execute(query)).one()
        return int(given), int(satisfied)

    async def unrated(self, where: Where, period: Period, closed: str) -> int:
        """Orders closed in the period because the resident never rated them."""
        start, end = period
        return int(await self.session.scalar(
            select(func.count()).select_from(Order)
            .where(Order.status == closed, Order.updated_at >= start, Order.updated_at < end,
                   Order.no_response.is_(True), *self._place(where, Order))) or 0)

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
        members = self._members(where, community)
        with_account = await self.session.scalar(select(func.count(distinct(Volunteer.user_id))).where(*members))
        without = await self.session.scalar(select(func.count()).select_from(Volunteer)
                                            .where(*members, Volunteer.user_id.is_(None)))
        return int(with_account or 0) + int(without or 0)

    async def served(self, where: Where, community: str | None, period: Period, sources: Sequence[str]) -> int:
        """Approved volunteers of the place with a ledger entry of ``sources`` served in the period
        (for a team: served for that team). Each entry's person is looked up in
        ``ix_volunteers_measures`` alone."""
        start, end = period
        member = exists().where(Volunteer.user_id == HoursEntry.user_id, *self._members(where, community))
        query = select(func.count(distinct(HoursEntry.user_id))).where(
            HoursEntry.served_at >= start, HoursEntry.served_at < end, HoursEntry.source.in_(list(sources)), member)
        if where.team_id is not None:
            query = query.where(HoursEntry.team_id == where.team_id)
        return int(await self.session.scalar(query) or 0)

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

