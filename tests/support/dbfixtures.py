"""Database fixtures shared by every test package (re-exported from ``tests/conftest.py``).

Every database test runs on SQLite (a fresh file per test) and, when ``TEST_DATABASE_URL`` names a
PostgreSQL database, on PostgreSQL too: the ``backend`` parameter list is built from the
environment, so without the variable the ``postgresql`` case does not exist (it is never skipped).
On PostgreSQL each test gets a clean ``public`` schema. The schema always comes from the real
migrations (:func:`storage.migrate.upgrade`), never from ``metadata.create_all``: on SQLite the
``engine`` fixture copies a file migrated once per test process (the same bytes the migrations
would write, in a hundredth of the time); ``bare_engine`` stays empty for the migration tests.

Under pytest-xdist every worker process has a PostgreSQL database of its own, named after
``TEST_DATABASE_URL``'s with the worker's id appended (``test_gw0``, ``test_gw1``; created on first
use): two workers resetting one ``public`` schema under each other's tests would break both.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork


def _worker_url(url: str | None, worker: str | None) -> str | None:
    """``url`` with the xdist worker's id appended to the database name (``url`` itself when serial)."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _worker_url(os.environ.get("TEST_DATABASE_URL") or None, os.environ.get("PYTEST_XDIST_WORKER"))
_created: set[str] = set()  # the PostgreSQL databases this process has made sure of
_sqlite_head: list[Path] = []  # the SQLite file this process migrated to the head, once made
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
# End-to-end flows proven in both languages run each language once, Chinese on SQLite and English
# on the other backend (PostgreSQL when configured): every flow meets both languages and both
# databases at half the cost of every pairing (language and backend do not interact).
in_both_languages = pytest.mark.parametrize(("language", "backend"), [("zh", BACKENDS[0]), ("en", BACKENDS[-1])])

__all__ = [
    "BACKENDS",
    "FakeClock",
    "UowFactory",
    "backend",
    "bare_engine",
    "clock",
    "database_url",
    "engine",
    "in_both_languages",
    "sessions",
    "uow_factory",
]


class FakeClock:
    """A clock tests move by hand: aware UTC datetimes, so nothing waits on the real time."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


UowFactory = Callable[..., UnitOfWork]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite``, and ``postgresql`` when ``TEST_DATABASE_URL`` is set."""
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> str:
    """The URL of an empty database for this test (on PostgreSQL: ``public`` dropped and recreated)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"
    assert POSTGRES_URL is not None
    if POSTGRES_URL not in _created:
        await _create_if_missing(POSTGRES_URL)
        _created.add(POSTGRES_URL)
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()
    return POSTGRES_URL


async def _create_if_missing(url: str) -> None:
    """Create ``url``'s database unless it exists, from the server's ``postgres`` database (trust auth)."""
    parsed = make_url(url)
    name = parsed.database
    assert name, url
    server = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with server.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            found = await connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if found.first() is None:
                quoted = name.replace('"', '""')
                await connection.exec_driver_sql(f'CREATE DATABASE "{quoted}"')
    finally:
        await server.dispose()


@pytest.fixture
async def bare_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database, not migrated; disposed at teardown."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(bare_engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> AsyncEngine:
    """The engine with the schema at the head migration."""
    if bare_engine.dialect.name == "sqlite":
        target = Path(bare_engine.url.database or "")
        if not target.exists():  # nothing has opened the test's file yet: the migrated copy becomes it
            shutil.copyfile(await _sqlite_at_head(tmp_path_factory), target)
            return bare_engine
    await upgrade(bare_engine)
    return bare_engine


async def _sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated by :func:`storage.migrate.upgrade`, made on first use in this process."""
    if not _sqlite_head:
        path = tmp_path_factory.mktemp("sqlite-head") / "head.sqlite3"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        # The last connection's close checkpoints the write-ahead log into the file and removes it:
        # the file alone is the whole database.
        assert not path.with_name(path.name + "-wal").exists(), "the migrated SQLite file kept its -wal"
        _sqlite_head.append(path)
    return _sqlite_head[0]


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow_factory(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> UowFactory:
    """``uow_factory()`` or ``uow_factory(update_key="...")``: a new UnitOfWork on the test clock."""

    def make(update_key: str | None = None) -> UnitOfWork:
        return UnitOfWork(sessions, clock=clock, update_key=update_key)

    return make
