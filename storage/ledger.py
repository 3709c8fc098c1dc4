"""The hours ledger (see :class:`storage.models.HoursEntry`): rows are added, never updated — but
for the volunteer's own figure (``claimed_minutes``), set once beside an order's entry.

Every total reads a correction under the source of the entry it corrects (a correction keeps that
entry's user, team, order or activity and service time), so "honour" stays apart even when
corrected. Periods are UTC ``[start, end)`` bounds: the caller turns its time zone's month or year
into them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, select, tuple_, update
from sqlalchemy.orm import aliased

from storage.models import Activity, HoursEntry, Order, Volunteer
from storage.repositories import _Repository

ORDER, ACTIVITY, HONOUR, CORRECTION = "order", "activity", "honour", "correction"
SERVED = (ORDER, ACTIVITY)  # hours of service (honour hours are recognition, kept apart)
EXPORT_BATCH = 5000

Period = tuple[dt.datetime, dt.datetime]  # UTC [start, end)


class Sums(NamedTuple):
    """Minutes this month, this year and in total."""

    month: int
    year: int
    total: int


class ExportRow(NamedTuple):
    """One service record of the monthly export: an entry with its corrections folded in."""

    entry_id: int
    source: str
    name: str
    registry_number: str
    order_id: int | None
    category: str | None
    activity_title: str | None
    served_at: dt.datetime
    minutes: int


_Original = aliased(HoursEntry)


class LedgerRepository(_Repository):
    async def add(self, user_id: int, source: str, minutes: int, served_at: dt.datetime, *,
                  ended_at: dt.datetime | None = None, team_id: int | None = None, order_id: int | None = None,
                  round: int | None = None, activity_id: int | None = None, corrects_id: int | None = None,
                  claimed_minutes: int | None = None, reason: str | None = None,
                  created_by: int | None = None) -> HoursEntry:
        """A new entry (``source``: order | activity | honour | correction)."""
        entry = HoursEntry(user_id=user_id, source=source, minutes=minutes, served_at=served_at, ended_at=ended_at,
                           team_id=team_id, order_id=order_id, round=round, activity_id=activity_id,
                           corrects_id=corrects_id, claimed_minutes=claimed_minutes, reason=reason,
                           created_by=created_by, created_at=self.clock())
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def get(self, entry_id: int) -> HoursEntry | None:
        return await self.session.get(HoursEntry, entry_id)

    async def of_order(self, order_id: int) -> Sequence[HoursEntry]:
        """An order's entries, every round's and their corrections, oldest first."""
        return (await self.session.scalars(
            select(HoursEntry).where(HoursEntry.order_id == order_id).order_by(HoursEntry.id))).all()

    async def claim(self, order_id: int, round: int, user_id: int, minutes: int) -> bool:
        """Record the volunteer's own figure beside their entry of the order's ``round``, once: the
        first figure stands (a conditional UPDATE; False when there is no entry or it has one)."""
        result = await self.session.execute(
            update(HoursEntry).where(HoursEntry.order_id == order_id, HoursEntry.round == round,
                                     HoursEntry.user_id == user_id, HoursEntry.source == ORDER,
                                     HoursEntry.claimed_minutes.is_(None))
            .values(claimed_minutes=minutes).execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    async def correct(self, entry_id: int, minutes: int, reason: str, created_by: int) -> HoursEntry | None:
        """A correction of ``entry_id`` by ``minutes`` (signed): a new entry that keeps the original's
        person, team, order or activity and service time. None if there is no such entry to correct
        (a correction is corrected through its original)."""
        original = await self.get(entry_id)
        if original is None or original.source == CORRECTION:
            return None
        return await self.add(original.user_id, CORRECTION, minutes, original.served_at, ended_at=original.ended_at,
                              team_id=original.team_id, order_id=original.order_id, round=original.round,
                              activity_id=original.activity_id, corrects_id=original.id, reason=reason,
                              created_by=created_by)

    async def net_minutes(self, entry_id: int) -> int:
        """An entry's minutes with its corrections."""
        value = await self.session.scalar(
            select(func.coalesce(func.sum(HoursEntry.minutes), 0))
            .where((HoursEntry.id == entry_id) | (HoursEntry.corrects_id == entry_id)))
        return int(value or 0)

    # -- totals ------------------------------------------------------------------------------------------------
    @staticmethod
    def _sums(month: Period, year: Period) -> tuple[ColumnElement[int], ...]:
        def within(period: Period) -> ColumnElement[int]:
            start, end = period
            return func.sum(case((and_(HoursEntry.served_at >= start, HoursEntry.served_at < end),
                                  HoursEntry.minutes), else_=0))

        return within(month), within(year), func.sum(HoursEntry.minutes)

    async def totals(self, user_id: int, month: Period, year: Period) -> dict[str, Sums]:
        """One person's minutes by source (corrections under their entry's source): this month,
        this year and in total. Answered from the index on (user, time, source, minutes) but for the
        rare correction."""
        source = func.coalesce(_Original.source, HoursEntry.source)
        rows = await self.session.execute(
            select(source, *self._sums(month, year))
            .outerjoin(_Original, _Original.id == HoursEntry.corrects_id)
            .where(HoursEntry.user_id == user_id).group_by(source))
        return {str(row[0]): Sums(int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in rows.all()}

    async def team_totals(self, team_id: int, month: Period, year: Period) -> dict[int, dict[str, Sums]]:
        """Every person's minutes served for team ``team_id``, by source, as :meth:`totals`."""
        source = func.coalesce(_Original.source, HoursEntry.source)
        rows = await self.session.execute(
            select(HoursEntry.user_id, source, *self._sums(month, year))
            .outerjoin(_Original, _Original.id == HoursEntry.corrects_id)
            .where(HoursEntry.team_id == team_id).group_by(HoursEntry.user_id, source))
        result: dict[int, dict[str, Sums]] = {}
        for row in rows.all():
            result.setdefault(int(row[0]), {})[str(row[1])] = Sums(int(row[2] or 0), int(row[3] or 0), int(row[4] or 0))
        return result

    async def entries(self, user_id: int, period: Period) -> Sequence[tuple[HoursEntry, int]]:
        """One person's entries served in ``period`` (not corrections), each with its net minutes
        (corrections folded in), oldest first: a certificate's services."""
        start, end = period
        entries = (await self.session.scalars(
            select(HoursEntry).where(HoursEntry.user_id == user_id, HoursEntry.served_at >= start,
                                     HoursEntry.served_at < end).order_by(HoursEntry.served_at, HoursEntry.id))).all()
        folded = {e.id: e.minutes for e in entries if e.source != CORRECTION}
        for e in entries:
            if e.source == CORRECTION and e.corrects_id in folded:
                folded[e.corrects_id] += e.minutes
        return [(e, folded[e.id]) for e in entries if e.id in folded]

    # -- the monthly export ------------------------------------------------------------------------------------
    async def export_rows(self, period: Period, *, batch: int = EXPORT_BATCH) -> AsyncIterator[list[ExportRow]]:
        """Every entry served in ``period`` (corrections folded into their entry, entries that come
        to zero left out), in time order, in batches, with the person's name and registry number,
        the order's category and the activity's title. One pass of keyset pages (time, id) over the
        time index, so a district's month streams at flat memory: a correction shares its entry's
        time and comes after it, so the rows at a page's last instant wait for the next page."""
        start, end = period
        people: dict[int, dict[int | None, tuple[str, str]]] = {}
        query = (select(HoursEntry.id, HoursEntry.user_id, HoursEntry.team_id, HoursEntry.source,
                        HoursEntry.order_id, HoursEntry.corrects_id, HoursEntry.served_at, HoursEntry.minutes,
                        Order.category, Activity.title)
                 .outerjoin(Order, Order.id == HoursEntry.order_id)
                 .outerjoin(Activity, Activity.id == HoursEntry.activity_id)
                 .where(HoursEntry.served_at >= start, HoursEntry.served_at < end)
                 .order_by(HoursEntry.served_at, HoursEntry.id).limit(batch))
        waiting: list[Any] = []
        after: tuple[dt.datetime, int] | None = None
        while True:
            page = list((await self.session.execute(
                query if after is None else query.where(tuple_(HoursEntry.served_at, HoursEntry.id) > tuple_(*after))
            )).all())
            last = len(page) < batch
            if page:
                after = (page[-1].served_at, page[-1].id)
            rows = waiting + page
            waiting = [] if last else [r for r in rows if r.served_at == after[0]]  # type: ignore[index]
            ready = rows[:len(rows) - len(waiting)]
            folded = {r.id: r.minutes for r in ready if r.source != CORRECTION}
            for r in ready:
                if r.source == CORRECTION and r.corrects_id in folded:
                    folded[r.corrects_id] += r.minutes
            await self._people(people, {r.user_id for r in ready})
            out = []
            for r in ready:
                minutes = folded.get(r.id, 0)
                if minutes <= 0:
                    continue
                known = people.get(r.user_id, {})
                name, number = known.get(r.team_id) or next(iter(known.values()), ("", ""))
                out.append(ExportRow(r.id, r.source, name, number, r.order_id, r.category, r.title, r.served_at,
                                     minutes))
            if out:
                yield out
            if last:
                return

    async def _people(self, people: dict[int, dict[int | None, tuple[str, str]]], user_ids: set[int]) -> None:
        """Name and registry number of each person, per team (their entries may name a team or not)."""
        missing = [u for u in user_ids if u not in people]
        if not missing:
            return
        for user_id in missing:  # someone with no roster row is not asked for again
            people[user_id] = {}
        rows = await self.session.execute(
            select(Volunteer.user_id, Volunteer.team_id, Volunteer.name, Volunteer.registry_number)
            .where(Volunteer.user_id.in_(missing)).order_by(Volunteer.id))
        for person, team_id, name, number in rows.all():
            people.setdefault(person or 0, {}).setdefault(team_id, (name, number or ""))
