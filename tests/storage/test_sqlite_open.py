"""Opening SQLite: a failed open leaves no worker thread behind (aiosqlite's would otherwise report
to an event loop that may be closed by then: a traceback after the command's one-line error), and a
good open is tuned (WAL, busy timeout, foreign keys)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import create_engine


def _workers() -> list[str]:
    return [t.name for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def test_a_failed_open_waits_for_its_worker_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
    try:
        with pytest.raises(OperationalError, match="unable to open database file"):
            async with engine.connect():
                pass
        assert _workers() == []
    finally:
        await engine.dispose()


async def test_an_open_connection_is_tuned(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3")
    try:
        async with engine.connect() as connection:
            settings = [(await connection.execute(text(f"PRAGMA {name}"))).scalar()
                        for name in ("journal_mode", "busy_timeout", "foreign_keys")]
        assert settings == ["wal", 30000, 1]
    finally:
        await engine.dispose()
