"""Revision 0013 on a database of earlier orders (sqlite, and postgresql): each order's first accept
and last done come from its audit log; the households reached are every address asked for (once,
ignoring case and spaces, at its first request) and each person who came by a building's link and
never asked for anything."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.migrate import upgrade
from storage.models import Order, ReachedHousehold
from storage.uow import UnitOfWork

AT = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


def later(minutes: int) -> dt.datetime:
    return AT + dt.timedelta(minutes=minutes)


async def test_times_and_households_from_earlier_orders(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine, "0012")
    async with bare_engine.begin() as connection:
        await connection.execute(text("INSERT INTO users (id, telegram_id, first_name, is_coordinator, unreachable, "
                                      "on_duty, created_at) VALUES (1, 101, 'Rita', false, false, true, :now)"),
                                 {"now": AT})
        await connection.execute(text("INSERT INTO buildings (id, code, community, name, created_at) "
                                      "VALUES (1, 'B1', 'East', '1号楼', :now)"), {"now": AT})
        for user, name in ((2, "Bea"), (3, "Ron")):  # both came by B1's link; Ron has asked since
            await connection.execute(text("INSERT INTO users (id, telegram_id, first_name, is_coordinator, "
                                          "unreachable, on_duty, building_id, created_at) "
                                          "VALUES (:id, :tg, :name, false, false, true, 1, :now)"),
                                     {"id": user, "tg": 100 + user, "name": name, "now": later(user)})
        for order, resident, community, building, flat, minutes in ((1, 1, "East", "B1", "501", 0),
                                                                     (2, 3, "East", "B1", "502", 5),
                                                                     (3, 1, " east", "b1 ", "501", 9)):
            await connection.execute(text(
                "INSERT INTO orders (id, resident_id, status, category, urgent, description, community, building, "
                "address_detail, when_text, contact_name, contact_phone, round, on_behalf, no_response, building_id, "
                "created_at, updated_at) VALUES (:id, :resident, 'closed', 'repair', false, '', :community, "
                ":building, :flat, 'today', 'R', '1', 1, false, false, 1, :at, :at)"),
                {"id": order, "resident": resident, "community": community, "building": building, "flat": flat,
                 "at": later(minutes)})
        for number, (event, minutes) in enumerate((("accepted", 10), ("done", 40), ("rated", 41), ("accepted", 100),
                                                   ("done", 130)), start=1):
            await connection.execute(text("INSERT INTO order_events (id, order_id, event, detail, created_at) "
                                          "VALUES (:id, 1, :event, '{}', :at)"),
                                     {"id": number, "event": event, "at": later(minutes)})

    await upgrade(bare_engine)

    async with UnitOfWork(session_factory(bare_engine)) as uow:
        times = (await uow.session.execute(select(Order.id, Order.accepted_at, Order.done_at).order_by(Order.id))).all()
        assert [tuple(row) for row in times] == [(1, later(10), later(130)), (2, None, None), (3, None, None)]
        reached = (await uow.session.execute(select(ReachedHousehold.key, ReachedHousehold.community,
                                                    ReachedHousehold.building_id, ReachedHousehold.reached_at)
                                             .order_by(ReachedHousehold.key))).all()
        assert [tuple(row) for row in reached] == [("east|b1|501", "east", 1, AT), ("east|b1|502", "east", 1, later(5)),
                                                   ("u2", "east", 1, later(2))]
