"""Points under concurrency, on SQLite and PostgreSQL: a code is used by one conditional UPDATE and
the balance spent by another, so the same code sent by two businesses at once redeems once, and
however many redemptions race, the balance never goes below zero."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from storage.ledger import HONOUR, ORDER
from storage.models import Redemption
from tests.support.dbfixtures import UowFactory

YEAR: tuple[dt.datetime, dt.datetime] = (dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC),
                                         dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC))
SERVED_AT = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
PER_HOUR = 7  # one hour served: 7 points


async def setup(uow_factory: UowFactory, businesses: int = 2) -> tuple[int, list[tuple[int, int]]]:
    """A volunteer with one hour served (and honour hours, which earn nothing); ``businesses``
    (membership, cashier) pairs."""
    async with uow_factory() as uow:
        team = await uow.teams.add("alliance", "Alliance", [])
        volunteer = await uow.users.ensure(100, "Wei")
        await uow.ledger.add(volunteer.id, ORDER, 60, SERVED_AT)
        await uow.ledger.add(volunteer.id, HONOUR, 600, SERVED_AT)
        shops = []
        for n in range(businesses):
            cashier = await uow.users.ensure(200 + n, f"Shop{n}")
            member = await uow.volunteers.add(cashier.id, team.id, f"Shop {n}", f"1380000000{n}", kind="business",
                                              organisation=f"Shop {n}")
            shops.append((member.id, cashier.id))
        await uow.commit()
        return volunteer.id, shops


async def redemptions(uow_factory: UowFactory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Redemption)) or 0)


async def test_honour_hours_earn_nothing(uow_factory: UowFactory) -> None:
    user_id, _shops = await setup(uow_factory, 0)
    async with uow_factory() as uow:
        assert await uow.points.earned(user_id, YEAR, PER_HOUR) == 7


async def test_the_same_code_sent_by_two_businesses_at_once_redeems_once(uow_factory: UowFactory) -> None:
    user_id, shops = await setup(uow_factory)
    async with uow_factory() as uow:
        code = await uow.points.issue(user_id, "K7M2P9QX", uow.now() + dt.timedelta(minutes=10))
        await uow.commit()
        code_id = code.id
    outcomes: list[bool] = []

    async def redeem(business_id: int, cashier_id: int) -> None:
        async with uow_factory() as uow:
            used = await uow.points.use(code_id, uow.now())
            if used:
                assert await uow.points.spend(user_id, 2026, YEAR, PER_HOUR, 2)
                await uow.points.redeem(code_id, user_id, business_id, cashier_id, 2)
                await uow.commit()
            outcomes.append(used)

    await asyncio.gather(*(redeem(*shop) for shop in shops))
    assert sorted(outcomes) == [False, True]
    assert await redemptions(uow_factory) == 1
    async with uow_factory() as uow:
        assert await uow.points.spent(user_id, 2026) == 2
        assert not await uow.points.use(code_id, uow.now())  # and never again


async def test_twenty_redemptions_against_a_balance_of_seven(uow_factory: UowFactory) -> None:
    user_id, shops = await setup(uow_factory, 1)
    business_id, cashier_id = shops[0]
    async with uow_factory() as uow:
        code_ids = [(await uow.points.issue(user_id, f"CODE{n:04d}", uow.now() + dt.timedelta(minutes=10))).id
                    for n in range(20)]
        await uow.commit()
    outcomes: list[bool] = []

    async def redeem(code_id: int) -> None:
        async with uow_factory() as uow:
            ok = await uow.points.spend(user_id, 2026, YEAR, PER_HOUR, 1)
            if ok:
                await uow.points.redeem(code_id, user_id, business_id, cashier_id, 1)
                await uow.commit()
            outcomes.append(ok)

    await asyncio.gather(*(redeem(code_id) for code_id in code_ids))
    assert outcomes.count(True) == 7
    assert await redemptions(uow_factory) == 7
    async with uow_factory() as uow:
        spent = await uow.points.spent(user_id, 2026)
        assert spent == 7
        assert await uow.points.earned(user_id, YEAR, PER_HOUR) - spent == 0


async def test_a_code_expires_and_a_new_one_voids_the_old(uow_factory: UowFactory) -> None:
    user_id, _shops = await setup(uow_factory, 0)
    async with uow_factory() as uow:
        now = uow.now()
        first = await uow.points.issue(user_id, "AAAA2222", now + dt.timedelta(minutes=10))
        second = await uow.points.issue(user_id, "BBBB3333", now + dt.timedelta(minutes=10))
        assert not await uow.points.use(first.id, now)  # replaced
        assert not await uow.points.use(second.id, now + dt.timedelta(minutes=10))  # expired
        assert await uow.points.live("BBBB3333", now) and not await uow.points.live("AAAA2222", now)
        assert await uow.points.use(second.id, now)
