"""A benchmark's database, built once and kept: the SQLite file, or a schema of a PostgreSQL
database, is reused while ``table`` holds the expected rows (and migrated to the newest schema),
otherwise built again through the real migrations and the district's bulk writers."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from bench.district import engine_for
from bench.district_data import Layout, Rows, write_postgresql, write_sqlite
from storage.migrate import upgrade
from storage.summaries import Sql, install, rebuild

SUMMARY_OFFSET = 480  # the bench district's zone, Asia/Shanghai (migration 0016's default)


async def _migrate(url: str, schema: str | None) -> None:
    engine = engine_for(url, schema)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _without_summaries(url: str, schema: str | None) -> None:
    """The summaries' triggers off for a bulk load (as for a restore): a million orders one trigger
    at a time would take longer than the load; :func:`_summarize` rebuilds them after."""
    engine = engine_for(url, schema)
    try:
        async with engine.begin() as connection:
            postgresql = connection.dialect.name == "postgresql"
            for statement in Sql(postgresql).drop():
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _summarize(url: str, schema: str | None) -> float:
    """The triggers back, every summary rebuilt from the loaded rows: the seconds it took."""
    began = time.perf_counter()
    engine = engine_for(url, schema)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(install)
            await connection.run_sync(rebuild, SUMMARY_OFFSET)
    finally:
        await engine.dispose()
    return time.perf_counter() - began


async def kept_build(*, database_url: str | None, path: Path, schema: str, table: str, expected: int,
                     rebuild: bool, rows: Callable[[], Rows], layout: Layout,
                     analyze: bool = False) -> tuple[str, str | None, float]:
    """The database to measure: its URL, schema (None for SQLite) and the seconds the build took
    (0 when a kept one was reused). ``analyze`` gathers SQLite's statistics after a build."""
    began = time.perf_counter()
    if database_url:
        engine = engine_for(database_url, None)
        async with engine.begin() as connection:
            exists = await connection.scalar(text("SELECT count(*) FROM information_schema.tables "
                                                  f"WHERE table_schema = '{schema}' AND table_name = '{table}'"))
            count = await connection.scalar(text(f"SELECT count(*) FROM {schema}.{table}")) if exists else -1
            reuse = count == expected and not rebuild
            if not reuse:
                await connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await engine.dispose()  # before migrating: this connection's locks would block it
        await _migrate(database_url, schema)  # a kept build of an older schema gets the newer migrations
        if reuse:
            return database_url, schema, 0.0
        await _without_summaries(database_url, schema)
        await write_postgresql(database_url, schema, rows(), layout)
        print(f"summaries rebuilt in {await _summarize(database_url, schema):.1f} s", file=sys.stderr)
        return database_url, schema, time.perf_counter() - began
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    if path.exists() and not rebuild:
        with sqlite3.connect(path) as connection:
            try:
                (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            except sqlite3.Error:
                count = -1
        if count == expected:
            await _migrate(url, None)
            return url, None, 0.0
    path.unlink(missing_ok=True)
    await _migrate(url, None)
    await _without_summaries(url, None)
    write_sqlite(path, rows(), layout)
    print(f"summaries rebuilt in {await _summarize(url, None):.1f} s", file=sys.stderr)
    if analyze:
        with sqlite3.connect(path) as connection:
            connection.execute("ANALYZE")
    return url, None, time.perf_counter() - began
