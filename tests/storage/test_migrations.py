"""The real migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.migrate import alembic_config, head_revision, upgrade, upgrade_if_behind
from storage.models import Base
from storage.uow import UnitOfWork
from tests.support.dbfixtures import FakeClock

MODEL_TABLES = set(Base.metadata.tables)


def _diff(metadata: MetaData) -> Any:
    def compare(connection: Connection) -> list[Any]:
        # compare_type as in env.py; server defaults too (the models declare none, so any
        # default the migration adds is drift). No type noise shows on SQLite or PostgreSQL:
        # alembic compares UTCDateTime through its impl, DateTime(timezone=True).
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, metadata)

    return compare


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def _version(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def test_upgrade_creates_every_model_table(bare_engine: AsyncEngine) -> None:
    assert await _tables(bare_engine) == set()
    assert await _version(bare_engine) is None

    await upgrade(bare_engine)

    assert await _tables(bare_engine) == MODEL_TABLES | {"alembic_version"}
    assert await _version(bare_engine) == _head()


async def test_migrated_schema_matches_models(bare_engine: AsyncEngine) -> None:
    async with bare_engine.connect() as connection:
        before = await connection.run_sync(_diff(Base.metadata))
    # The comparison sees the database: on an empty one it wants every table.
    assert {diff[1].name for diff in before if diff[0] == "add_table"} == MODEL_TABLES

    await upgrade(bare_engine)

    async with bare_engine.connect() as connection:
        assert await connection.run_sync(_diff(Base.metadata)) == []


async def test_drift_would_be_reported(engine: AsyncEngine) -> None:
    """The no-drift check can fail: a model column the migrations lack shows up."""
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["users"].append_column(Column("nickname", Integer, nullable=True))

    async with engine.connect() as connection:
        diffs = await connection.run_sync(_diff(drifted))

    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "users", "nickname")]


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    async with UnitOfWork(sessions, clock=clock) as uow:
        await uow.users.ensure(42, "Kept")
        await uow.commit()

    await upgrade(engine)

    async with UnitOfWork(sessions) as uow:
        kept = await uow.users.by_telegram_id(42)
        assert kept is not None and kept.first_name == "Kept"

    assert await _tables(engine) == MODEL_TABLES | {"alembic_version"}
    assert await _version(engine) == _head()
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff(Base.metadata)) == []


async def test_0004_stores_mainland_mobiles_in_one_form(bare_engine: AsyncEngine) -> None:
    """Bare 11-digit mobiles saved before 0004 become +86 numbers; others are left alone."""
    await upgrade(bare_engine, "0003")
    async with bare_engine.begin() as connection:
        await connection.exec_driver_sql(
            "INSERT INTO users (id, telegram_id, first_name, is_coordinator, unreachable, on_duty, created_at) "
            "VALUES (1, 7, 'R', false, false, true, CURRENT_TIMESTAMP)")
        await connection.exec_driver_sql(
            "INSERT INTO teams (id, code, name, categories, active, created_at) "
            "VALUES (1, 'repair', 'Repair', '[]', true, CURRENT_TIMESTAMP)")
        for number, phone in ((1, "13800138000"), (2, "+8613900139000"), (3, "01012345678")):
            await connection.exec_driver_sql(
                "INSERT INTO volunteers (id, team_id, name, phone, status, community, skills, source, created_at) "
                f"VALUES ({number}, 1, 'V', '{phone}', 'approved', '', '[]', 'roster', CURRENT_TIMESTAMP)")
        await connection.exec_driver_sql(
            "INSERT INTO orders (id, resident_id, status, category, urgent, description, community, building, "
            "address_detail, when_text, contact_name, contact_phone, round, created_at, updated_at) VALUES "
            "(1, 1, 'new', 'repair', false, '', 'c', 'b', 'd', 'today', 'R', '13700137000', 1, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")

    await upgrade(bare_engine)

    async with bare_engine.connect() as connection:
        phones = [row[0] for row in await connection.exec_driver_sql("SELECT phone FROM volunteers ORDER BY id")]
        contact = (await connection.exec_driver_sql("SELECT contact_phone FROM orders")).scalar_one()
    assert phones == ["+8613800138000", "+8613900139000", "01012345678"]
    assert contact == "+8613700137000"


# -- start-up: an up-to-date schema is recognised without Alembic ------------------------------------
def test_the_head_read_from_file_names_is_alembics_head() -> None:
    assert head_revision() == _head()


async def test_upgrade_if_behind_runs_alembic_only_when_the_schema_is_behind(bare_engine: AsyncEngine) -> None:
    assert await upgrade_if_behind(bare_engine) is True  # an empty database
    assert await _version(bare_engine) == _head()
    assert await upgrade_if_behind(bare_engine) is False  # at the head: one row read, nothing run
    assert await _tables(bare_engine) == MODEL_TABLES | {"alembic_version"}


async def test_upgrade_if_behind_brings_an_older_schema_to_the_head(bare_engine: AsyncEngine) -> None:
    await upgrade(bare_engine, "0005")  # as the previous release left it
    assert await upgrade_if_behind(bare_engine) is True
    assert await _version(bare_engine) == _head()
    assert await _tables(bare_engine) == MODEL_TABLES | {"alembic_version"}
