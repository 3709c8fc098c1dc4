"""Database fixtures shared by every test package (re-exported from ``tests/conftest.py``).

Every database test runs on SQLite (a fresh file per test) and, when ``TEST_DATABASE_URL`` names a
PostgreSQL database, on PostgreSQL too: the ``backend`` parameter list is built from the
environment, so without the variable the ``postgresql`` case does not exist (it is never skipped).
On PostgreSQL each test gets a clean ``public`` schema. The schema always comes from the real
migrations (:func:`storage.migrate.upgrade`), never from ``metadata.create_all``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or None
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
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()
    return POSTGRES_URL


@pytest.fixture
async def bare_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database, not migrated; disposed at teardown."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(bare_engine: AsyncEngine) -> AsyncEngine:
    """The engine with the schema at the head migration."""
    await upgrade(bare_engine)
    return bare_engine


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
