"""``volunteer-loop db copy SRC DST``: every row of one database into another, empty one — the move
from SQLite to PostgreSQL (docs/operations.md).

The target is migrated to the head first and must hold no data. Tables go in foreign-key order, in
batches, in one transaction on the target (a failure leaves it empty). What the database keeps by
itself is not copied but made again: the skills index by its triggers as volunteers arrive, the
measures' summaries recomputed at the end from the copied rows at the source's month offset. On
PostgreSQL every id sequence is moved past the ids copied.
"""

from __future__ import annotations

from sqlalchemy import Table, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.migrate import upgrade
from storage.models import Base, MeasureClock
from storage.summaries import DEFAULT_OFFSET_MINUTES, rebuild

# Kept by the target's own triggers or recomputed: copying them would count everything twice.
DERIVED = frozenset({"volunteer_skills", "measure_counts", "measure_minutes", "measure_served",
                     "measure_residents", "measure_clock"})
BATCH = 1000


class CopyError(Exception):
    """The copy cannot be made; the message is one line for the operator."""


async def copy_database(source: AsyncEngine, target: AsyncEngine) -> dict[str, int]:
    """Copy every table; returns the rows copied per table."""
    await upgrade(target)
    tables = [t for t in Base.metadata.sorted_tables if t.name not in DERIVED]
    copied: dict[str, int] = {}
    async with source.connect() as reader, target.begin() as writer:
        for table in tables:
            if await writer.scalar(select(func.count()).select_from(table)):
                raise CopyError(f"the target database already has rows in {table.name}: copy into an empty one")
        offset = await reader.scalar(select(MeasureClock.offset_minutes).where(MeasureClock.id == 1))
        later = _references_ahead(tables)
        for table in tables:
            copied[table.name] = 0
            result = await reader.stream(select(table).order_by(*table.primary_key.columns))
            async for rows in result.partitions(BATCH):
                await writer.execute(table.insert(), [{**row._mapping, **dict.fromkeys(later[table.name])}
                                                      for row in rows])
                copied[table.name] += len(rows)
        for table in tables:  # the references left out above, now that every row is there
            await _fill_in(reader, writer, table, later[table.name])
        await writer.run_sync(lambda connection: rebuild(connection, offset or DEFAULT_OFFSET_MINUTES))
        if target.dialect.name == "postgresql":
            await _sequences_past_the_copied_ids(writer, [t.name for t in tables if "id" in t.columns])
    return copied


def _references_ahead(tables: list[Table]) -> dict[str, list[str]]:
    """Per table, the columns that refer to a table copied after it (users ↔ buildings refer to each
    other): inserted empty first, filled in once every row is there."""
    position = {table.name: index for index, table in enumerate(tables)}
    ahead: dict[str, list[str]] = {}
    for table in tables:
        ahead[table.name] = [column.name for column in table.columns
                             if any(position.get(key.column.table.name, -1) >= position[table.name]
                                    for key in column.foreign_keys)]
        assert all(table.columns[name].nullable for name in ahead[table.name]), (table.name, ahead[table.name])
    return ahead


async def _fill_in(reader: AsyncConnection, writer: AsyncConnection, table: Table, columns: list[str]) -> None:
    if not columns:
        return
    keys = list(table.primary_key.columns)
    statement = (update(table).where(*(key == bindparam(f"key_{key.name}") for key in keys))
                 .values({name: bindparam(f"value_{name}") for name in columns}))
    result = await reader.stream(select(*keys, *(table.columns[name] for name in columns))
                                 .where(or_(*(table.columns[name].is_not(None) for name in columns))))
    async for rows in result.partitions(BATCH):
        await writer.execute(statement, [{**{f"key_{key.name}": row._mapping[key.name] for key in keys},
                                          **{f"value_{name}": row._mapping[name] for name in columns}} for row in rows])


async def _sequences_past_the_copied_ids(connection: AsyncConnection, tables: list[str]) -> None:
    for name in tables:
        await connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), coalesce((SELECT max(id) FROM {name}), 0) + 1, "
            "false) WHERE pg_get_serial_sequence(:table, 'id') IS NOT NULL"), {"table": name})
