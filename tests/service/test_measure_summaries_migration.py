"""Migration 0016 on a database that already has a history (sqlite, and postgresql with
TEST_DATABASE_URL): the known month is written, the summaries are taken away (downgraded to 0015:
tables and triggers gone) and the migration brings them back filled from the raw rows, so the whole
report read from them is again every place's own ``measure()``; the terms the triggers' SQL spells
out are the measures' own."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import satisfaction
from bot.domain.lifecycle import FINISHED, OrderStatus
from bot.domain.measures import Scope
from bot.services import measures
from storage import summaries
from storage.ledger import ORDER, SERVED
from storage.migrate import downgrade, upgrade
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.known_month import CONFIG, EAST, JANUARY, known_month


@pytest.mark.parametrize("scope", [Scope(), Scope("community", EAST), Scope("team", "repair")])
async def test_the_migration_fills_the_summaries_from_the_rows_there(
        engine: AsyncEngine, uow_factory: UowFactory, clock: FakeClock, scope: Scope) -> None:
    await known_month(uow_factory, clock)
    await downgrade(engine, "0015")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert "measure_counts" not in tables
    await upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM measure_counts WHERE n <> 0")) > 30

    async with uow_factory() as uow:
        where = await measures.place(uow, scope)
        assert await measures.summaries_serve(uow, where, measures.months_to(JANUARY), CONFIG.timezone)
        data = await measures.report_data(uow, CONFIG.measures, scope, JANUARY, CONFIG.timezone)
        raw = await measures.measure(uow, CONFIG.measures, where, JANUARY, CONFIG.timezone)
    assert data.measures == raw
    for code, figures in data.by_team:
        async with uow_factory() as uow:
            assert figures == await measures.measure(uow, CONFIG.measures, await measures.place(
                uow, Scope("team", code)), JANUARY, CONFIG.timezone), code


async def test_summaries_at_another_offset_are_not_read(uow_factory: UowFactory, clock: FakeClock) -> None:
    """Summaries cut at another zone's months (the zone was changed and not rebuilt) are left
    alone: the report reads the raw rows, and its figures are still ``measure()``'s."""
    await known_month(uow_factory, clock)
    async with uow_factory() as uow:
        await uow.summaries.rebuild(-300)
        await uow.session.execute(text("UPDATE measure_counts SET n = n + 100"))  # not read: would show
        await uow.commit()
    async with uow_factory() as uow:
        where = await measures.place(uow, Scope())
        assert not await measures.summaries_serve(uow, where, measures.months_to(JANUARY), CONFIG.timezone)
        data = await measures.report_data(uow, CONFIG.measures, Scope(), JANUARY, CONFIG.timezone)
        assert data.measures == await measures.measure(uow, CONFIG.measures, where, JANUARY, CONFIG.timezone)


def test_the_summaries_count_what_the_measures_count() -> None:
    assert set(summaries.REFUSED) == {OrderStatus.REJECTED}
    assert summaries.WITHDRAWN == OrderStatus.CANCELLED and summaries.CLOSED == OrderStatus.CLOSED
    assert set(summaries.FINISHED) == set(FINISHED)
    assert summaries.SATISFIED_FROM == measures.SATISFIED_FROM == satisfaction.MOSTLY
    assert summaries.SERVED_SOURCES == SERVED and summaries.RATED_SOURCE == ORDER


async def _triggers(engine: AsyncEngine) -> set[str]:
    query = ("SELECT name FROM sqlite_master WHERE type = 'trigger'" if engine.dialect.name == "sqlite"
             else "SELECT DISTINCT tgname FROM pg_trigger WHERE NOT tgisinternal")
    async with engine.connect() as connection:
        return set((await connection.scalars(text(query))).all())


async def test_later_migrations_going_down_and_up_keep_the_summaries_triggers(engine: AsyncEngine) -> None:
    """A later migration that changes a summarized table (0017: orders, 0018: outbox) must not copy
    the table to do it: on SQLite the copy would silently take the summaries' triggers with it."""
    kept = await _triggers(engine)
    assert {name for name in kept if name.startswith("measure_")}  # the triggers are there to be lost
    await downgrade(engine, "0016")
    assert await _triggers(engine) == kept
    await upgrade(engine)
    assert await _triggers(engine) == kept
