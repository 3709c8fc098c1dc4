"""Points (docs/points.md): earned from the hours ledger's hours served (orders, activities and
their corrections — never honour hours), spent at partner businesses with one-time codes.

Earned points are not stored: a year's are ``served minutes × per_hour ÷ 60`` (whole points) of the
entries served in that year, read in SQL where they are spent. Spending is one conditional UPDATE of
``point_accounts.spent`` guarded by ``earned − spent ≥ amount`` and its row count; a code is used
by another conditional UPDATE (``status = 'issued' AND expires_at > now``). Periods are UTC
``[start, end)`` bounds the caller makes from its time zone's years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import aliased

from storage.ledger import SERVED, Period
from storage.models import HoursEntry, PointAccount, PointCode, Redemption, Volunteer
from storage.repositories import _Repository

ISSUED, USED, VOID = "issued", "used", "void"
_Original = aliased(HoursEntry)


class BusinessTotal(NamedTuple):
    """One business's redemptions in a period."""

    business_id: int
    organisation: str
    times: int
    points: int


class PointsRepository(_Repository):
    # -- earning and spending -------------------------------------------------------------------------------
    @staticmethod
    def _earned(user_id: int, period: Period, per_hour: int) -> ColumnElement[int]:
        """Whole points earned by ``user_id`` for hours served in ``period`` (a scalar subquery):
        corrections count under the source of the entry they correct, so honour stays out."""
        start, end = period
        source = func.coalesce(_Original.source, HoursEntry.source)
        minutes = (select(func.coalesce(func.sum(HoursEntry.minutes), 0))
                   .outerjoin(_Original, _Original.id == HoursEntry.corrects_id)
                   .where(HoursEntry.user_id == user_id, HoursEntry.served_at >= start, HoursEntry.served_at < end,
                          source.in_(SERVED))
                   .scalar_subquery())
        return (minutes * per_hour) // 60

    async def earned(self, user_id: int, period: Period, per_hour: int) -> int:
        return int(await self.session.scalar(select(self._earned(user_id, period, per_hour))) or 0)

    async def spent(self, user_id: int, year: int) -> int:
        value = await self.session.scalar(select(PointAccount.spent).where(PointAccount.user_id == user_id,
                                                                           PointAccount.year == year))
        return int(value or 0)

    async def spend(self, user_id: int, year: int, period: Period, per_hour: int, amount: int) -> bool:
        """Spend ``amount`` of the points earned in ``year`` (served within ``period``), if that many are
        left: one conditional UPDATE, so concurrent spenders can never take the balance below zero."""
        await self.session.execute(self._insert(PointAccount).values(user_id=user_id, year=year, spent=0)
                                   .on_conflict_do_nothing(index_elements=["user_id", "year"]))
        return bool(await self._rowcount(
            update(PointAccount)
            .where(PointAccount.user_id == user_id, PointAccount.year == year,
                   self._earned(user_id, period, per_hour) - PointAccount.spent >= amount)
            .values(spent=PointAccount.spent + amount).execution_options(synchronize_session=False)))

    # -- one-time codes -------------------------------------------------------------------------------------
    async def issue(self, user_id: int, code: str, expires_at: dt.datetime) -> PointCode:
        """A new code for ``user_id``; their earlier live code is void (one live code per person)."""
        await self.session.execute(update(PointCode).where(PointCode.user_id == user_id, PointCode.status == ISSUED)
                                   .values(status=VOID).execution_options(synchronize_session=False))
        row = PointCode(user_id=user_id, code=code, status=ISSUED, created_at=self.clock(), expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_code(self, code: str) -> PointCode | None:
        """The newest code typed as ``code`` (live or not: the caller says which it is)."""
        return await self.session.scalar(select(PointCode).where(PointCode.code == code)
                                         .order_by(PointCode.id.desc()).limit(1))

    async def get_code(self, code_id: int) -> PointCode | None:
        return await self.session.get(PointCode, code_id)

    async def live(self, code: str, now: dt.datetime) -> bool:
        """Whether some live code reads ``code`` (a new code must not)."""
        return await self.session.scalar(select(PointCode.id).where(
            PointCode.code == code, PointCode.status == ISSUED, PointCode.expires_at > now).limit(1)) is not None

    async def use(self, code_id: int, now: dt.datetime) -> bool:
        """Use the code once: False if it was used, replaced or expired meanwhile."""
        return bool(await self._rowcount(
            update(PointCode).where(PointCode.id == code_id, PointCode.status == ISSUED, PointCode.expires_at > now)
            .values(status=USED, used_at=now).execution_options(synchronize_session=False)))

    # -- redemptions ----------------------------------------------------------------------------------------
    async def redeem(self, code_id: int, user_id: int, business_id: int, cashier_id: int, amount: int) -> Redemption:
        row = Redemption(code_id=code_id, user_id=user_id, business_id=business_id, cashier_id=cashier_id,
                         amount=amount, created_at=self.clock())
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_business(self, period: Period) -> Sequence[BusinessTotal]:
        """Each business's redemptions in ``period``: how many and how many points, most points first."""
        start, end = period
        rows = await self.session.execute(
            select(Redemption.business_id, Volunteer.organisation, func.count(Redemption.id),
                   func.sum(Redemption.amount))
            .join(Volunteer, Volunteer.id == Redemption.business_id)
            .where(Redemption.created_at >= start, Redemption.created_at < end)
            .group_by(Redemption.business_id, Volunteer.organisation)
            .order_by(func.sum(Redemption.amount).desc(), Redemption.business_id))
        return [BusinessTotal(int(r[0]), str(r[1] or ""), int(r[2]), int(r[3] or 0)) for r in rows.all()]
