"""Revision 0002 on a database that already has bot volunteers (sqlite, and postgresql)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import upgrade

NOW = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)


async def test_existing_volunteers_become_bot_volunteers(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine, "0001")
    async with bare_engine.begin() as connection:
        await connection.execute(text("INSERT INTO users (id, telegram_id, first_name, is_coordinator, unreachable, "
                                      "created_at) VALUES (1, 42, 'Wang', false, false, :now)"), {"now": NOW})
        await connection.execute(text("INSERT INTO teams (id, code, name, categories, active, created_at) "
                                      "VALUES (1, 'repair', '维修队', '[\"repair\"]', true, :now)"), {"now": NOW})
        await connection.execute(text("INSERT INTO volunteers (id, user_id, team_id, name, phone, status, created_at) "
                                      "VALUES (1, 1, 1, '王五', '13700137000', 'approved', :now)"), {"now": NOW})

    await upgrade(bare_engine)

    async with bare_engine.connect() as connection:
        row = (await connection.execute(text(
            "SELECT user_id, registry_number, community, skills, source, status FROM volunteers"))).one()
    skills = row.skills if isinstance(row.skills, list) else json.loads(row.skills)  # SQLite returns the JSON text
    assert (row.user_id, row.registry_number, row.community, skills, row.source, row.status) == (
        1, None, "", [], "bot", "approved")
