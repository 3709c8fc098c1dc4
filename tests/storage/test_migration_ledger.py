"""Revision 0011 on a database with hours entered before the ledger (sqlite, and postgresql): each
volunteer's last figure of each round becomes an order entry, served from their accept to their
done of that round, so "my hours" read the same after the upgrade; an order with no figure gets none."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

AT = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


def later(minutes: int) -> dt.datetime:
    return AT + dt.timedelta(minutes=minutes)


async def test_hours_events_become_ledger_entries(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine, "0010")
    events = [  # order 1: Vera's round 1 (her figure corrected once), reopened, Victor's round 2; order 2: none
        (1, 1, "accepted", {}, 0), (1, 1, "done", {"round": 1}, 40),
        (1, 1, "hours", {"hours": 1.5, "round": 1}, 41), (1, 1, "hours", {"hours": 2, "round": 1}, 42),
        (1, 2, "accepted", {}, 100), (1, 2, "done", {"round": 2}, 130),
        (1, 2, "hours", {"hours": 0.5, "round": 2}, 131),
        (2, 1, "accepted", {}, 200), (2, 1, "done", {"round": 1}, 210)]
    async with bare_engine.begin() as connection:
        for user, name in ((1, "Vera"), (2, "Victor"), (3, "Rita")):
            await connection.execute(text("INSERT INTO users (id, telegram_id, first_name, is_coordinator, "
                                          "unreachable, on_duty, created_at) "
                                          "VALUES (:id, :tg, :name, false, false, true, :now)"),
                                     {"id": user, "tg": 100 + user, "name": name, "now": AT})
        await connection.execute(text("INSERT INTO teams (id, code, name, categories, active, created_at) "
                                      "VALUES (1, 'repair', '维修队', '[\"repair\"]', true, :now)"), {"now": AT})
        for order in (1, 2):
            await connection.execute(text(
                "INSERT INTO orders (id, resident_id, status, category, urgent, description, community, building, "
                "address_detail, when_text, contact_name, contact_phone, team_id, round, on_behalf, no_response, "
                "created_at, updated_at) VALUES (:id, 3, 'closed', 'repair', false, '', 'c', '', '', 'today', 'R', "
                "'1', 1, 2, false, false, :now, :now)"), {"id": order, "now": AT})
        for number, (order, actor, event, detail, minutes) in enumerate(events, start=1):
            await connection.execute(text("INSERT INTO order_events (id, order_id, actor_id, event, detail, "
                                          "created_at) VALUES (:id, :order, :actor, :event, :detail, :at)"),
                                     {"id": number, "order": order, "actor": actor, "event": event,
                                      "detail": json.dumps(detail), "at": later(minutes)})

    await upgrade(bare_engine)

    async with UnitOfWork(session_factory(bare_engine)) as uow:
        rows = await uow.ledger.of_order(1)
        assert [(e.user_id, e.round, e.minutes, e.claimed_minutes, e.served_at, e.ended_at, e.team_id, e.source)
                for e in rows] == [(1, 1, 120, 120, AT, later(40), 1, "order"),
                                   (2, 2, 30, 30, later(100), later(130), 1, "order")]
        assert await uow.ledger.of_order(2) == []
    async with bare_engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM hours_entries"))).scalar() == 2
