"""Schema migrations (Alembic), run on start and by ``volunteer-loop db upgrade``.

Alembic (and Mako under it) is imported only when the schema is behind: a bot restarted on an
up-to-date database reads one row of ``alembic_version`` and goes on, which keeps start-up short.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Two processes starting at once on one database migrate once: the first holds this PostgreSQL
# advisory lock (a constant of ours, "vloopmig" in ASCII) for its migration's transaction.
MIGRATION_LOCK = 0x766C6F6F706D6967
# A migration's file is named after its revision: ``0006_parked_updates.py`` holds revision "0006"
# (tests/storage/test_migrations.py holds Alembic's own head to this).
REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    """The newest migration's revision, read from the file names (no Alembic import)."""
    revisions = [match.group(1) for path in (MIGRATIONS / "versions").iterdir()
                 if (match := REVISION_FILE.fullmatch(path.name))]
    return max(revisions)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` on this engine's database."""
    await _migrate(engine, revision, down=False)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema back to ``revision`` (the migration tests' way down)."""
    await _migrate(engine, revision, down=True)


async def _migrate(engine: AsyncEngine, revision: str, *, down: bool) -> None:
    def run(connection: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with _file_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # held to the commit: the next one finds the schema at head
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        await connection.run_sync(run)


@contextlib.asynccontextmanager
async def _file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """On an SQLite file, an exclusive lock on ``<file>.migrate-lock`` while migrating (PostgreSQL's
    is the advisory lock; an in-memory database has one process)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)  # waits for the other process
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


async def current_revisions(engine: AsyncEngine) -> list[str]:
    """The revisions ``alembic_version`` records (none on a database never migrated)."""

    def _read(connection: Connection) -> list[str]:
        if not inspect(connection).has_table("alembic_version"):
            return []
        return [str(row[0]) for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]

    async with engine.connect() as connection:
        return await connection.run_sync(_read)


async def upgrade_if_behind(engine: AsyncEngine) -> bool:
    """Upgrade to the head unless the database is there already; whether Alembic ran. Several
    processes starting at once migrate once: each waits for the migration lock, and Alembic, under
    it, finds what the first one did."""
    if await current_revisions(engine) == [head_revision()]:
        return False
    await upgrade(engine)
    return True
