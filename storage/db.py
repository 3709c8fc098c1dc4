"""Engines and sessions. SQLite gets WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``
(a read-then-write transaction can otherwise fail at once with "database is locked"), except for
connections marked :data:`READ_ONLY`: they ``BEGIN DEFERRED`` and never take the write lock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

READ_ONLY = "vloop_read_only"
"""Execution option of a connection that only reads (``UnitOfWork(..., read_only=True)``)."""


class DatabaseUrlError(ValueError):
    """The database URL cannot be used."""


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    SQL parameters never appear in logs or error messages (``hide_parameters``): they hold
    phone numbers and addresses."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise DatabaseUrlError("cannot parse the database URL (expected e.g. sqlite+aiosqlite:///file.sqlite3)") \
            from error
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg")
    try:
        if backend == "sqlite":
            engine = create_async_engine(parsed, echo=echo, hide_parameters=True,
                                         async_creator=_sqlite_opener(parsed.database or ":memory:"))
            _tune_sqlite(engine)
            _WRITER_TURNS[engine.sync_engine] = WriterTurns()
            return engine
        return create_async_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True)
    except (ArgumentError, InvalidRequestError, NoSuchModuleError, ImportError, ValueError) as error:
        raise DatabaseUrlError(f"cannot use the database URL {parsed.render_as_string(hide_password=True)}: "
                               f"{str(error).splitlines()[0]} (use sqlite+aiosqlite or postgresql+asyncpg)") \
            from error


def _sqlite_opener(database: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """Opens SQLite connections (30 s busy timeout), each on aiosqlite's worker thread. When opening
    fails, it waits for that thread to end before raising: aiosqlite (0.22) stops the thread without
    waiting, and a thread still running when the event loop closes reports to the closed loop, a
    traceback on stderr after our one-line error (omnilib/aiosqlite#241, #389)."""

    async def open_connection() -> aiosqlite.Connection:
        make_private(database)
        connection = aiosqlite.connect(database, timeout=30)
        worker = connection._thread  # the only handle on the worker
        worker.daemon = True  # as SQLAlchemy sets it: an unclosed connection never blocks exit
        try:
            return await connection
        except BaseException:
            await asyncio.shield(asyncio.to_thread(worker.join, 5))
            raise

    return open_connection


PRIVATE_FILE = 0o600
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
SIDE_FILES = ("-wal", "-shm", "-journal")
"""SQLite's files beside the database: the write-ahead log, its index and a rollback journal."""


def make_private(database: str) -> None:
    """Create the SQLite database file readable and writable by its owner only (0600), whatever the
    process umask, before SQLite opens it, and take the group's and others' access away from a
    file (and its WAL, SHM and journal) that an earlier release created readable by them. SQLite
    gives the files it creates beside a database the database's own mode, so a private database
    keeps its WAL and SHM private. ``:memory:``, an empty name (a temporary database) and ``file:``
    URIs are left to SQLite; so is a file that cannot be created (its directory missing): SQLite's
    own open reports that."""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        descriptor = os.open(database, os.O_RDONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        pass
    except OSError:
        return
    else:
        try:
            os.fchmod(descriptor, PRIVATE_FILE)  # the umask may have taken the owner's own bits
        finally:
            os.close(descriptor)
    for path in (database, *(database + suffix for suffix in SIDE_FILES)):
        _keep_to_owner(path)


def _keep_to_owner(path: str) -> None:
    """Take the group's and others' bits off a file of ours (absent, or someone else's: left alone)."""
    with contextlib.suppress(OSError):
        status = os.stat(path)
        if stat.S_IMODE(status.st_mode) & 0o077 and status.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(status.st_mode) & 0o700)


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


class WriterTurns:
    """SQLite's write transactions of this process, one at a time, first come first served.

    SQLite has one write lock, and a connection that finds it taken does not queue: it sleeps and
    tries again (1, 2, 5 … 100 ms, up to the busy timeout). With several handlers writing at once
    that turns a few milliseconds of waiting into tens. Waiting here instead, in an asyncio lock,
    hands the lock over the moment it is free. Other processes still meet the busy timeout. A task
    that already has the turn (a unit of work opened inside another) keeps it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._holders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[Any]] = \
            weakref.WeakKeyDictionary()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None or self._holders.get(loop) is task:
            yield
            return
        lock = self._locks.setdefault(loop, asyncio.Lock())
        async with lock:
            self._holders[loop] = task
            try:
                yield
            finally:
                del self._holders[loop]


_WRITER_TURNS: weakref.WeakKeyDictionary[Any, WriterTurns] = weakref.WeakKeyDictionary()


def writer_turns(sessions: async_sessionmaker[AsyncSession]) -> WriterTurns | None:
    """The :class:`WriterTurns` of the SQLite engine the sessions are bound to; None for PostgreSQL
    (its row locks queue writers themselves)."""
    bind = sessions.kw.get("bind")
    return _WRITER_TURNS.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (handlers read them after the transaction)."""
    return async_sessionmaker(engine, expire_on_commit=False)
