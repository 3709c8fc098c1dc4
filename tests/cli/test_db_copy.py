"""``volunteer-loop db copy SRC DST``: a district's month (tests/support/known_month.py) copied from an
SQLite file into an empty database — SQLite, and PostgreSQL when it is there — arrives whole: every
table holds the same rows, the skills index and the measures' summaries included (made again by the
target, not copied), the next id is free, and a second copy into the now full target is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Base
from storage.uow import UnitOfWork
from tests.support.cli import run_cli
from tests.support.dbfixtures import FakeClock
from tests.support.known_month import known_month


async def _rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows; a summary's cells that count nothing are left out (the triggers keep a cell
    a move emptied, a rebuild makes none: the same figures)."""
    async with engine.connect() as connection:
        return {table.name: [tuple(row) for row in await connection.execute(
                    select(table).where(table.c.n != 0 if "n" in table.c and table.name.startswith("measure_")
                                        else true()).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


async def test_a_district_copied_into_an_empty_database_arrives_whole(database_url: str, tmp_path: Path) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path}/source.sqlite3"
    source, clock = create_engine(source_url), FakeClock()
    target = create_engine(database_url)
    try:
        await upgrade(source)
        sessions = session_factory(source)
        await known_month(lambda update_key=None: UnitOfWork(sessions, clock=clock, update_key=update_key), clock)

        copied = await asyncio.to_thread(run_cli, "db", "copy", source_url, database_url, cwd=tmp_path)
        assert copied.returncode == 0 and "copied" in copied.stdout, copied.stderr

        before, after = await _rows(source), await _rows(target)
        assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
        assert after == before
        assert len(before["orders"]) >= 9 and before["measure_counts"] and before["volunteer_skills"] == []
        async with UnitOfWork(session_factory(target), clock=clock) as uow:  # the next id is free
            await uow.users.ensure(777_000, "New", "en")
            await uow.commit()

        again = await asyncio.to_thread(run_cli, "db", "copy", source_url, database_url, cwd=tmp_path)
        assert again.returncode == 2 and "Traceback" not in again.stderr, again.stderr
        assert "already has rows" in again.stderr.splitlines()[-1]  # after the target's migration lines
    finally:
        await source.dispose()
        await target.dispose()
