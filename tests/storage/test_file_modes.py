"""The SQLite database holds names, phones and addresses: its file, WAL, SHM and journal are the
owner's alone (0600) whatever the process umask, from the first connection, the migrations, and
the command line; a file an earlier release left readable by others is tightened on open."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a plain open creates files readable by everyone (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(database: Path) -> dict[str, int]:
    """The database's files that exist, by suffix, with their permission bits."""
    return {suffix: _mode(Path(f"{database}{suffix}")) for suffix in ("", "-wal", "-shm", "-journal")
            if Path(f"{database}{suffix}").exists()}


@pytest.mark.usefixtures("umask_022")
async def test_a_new_database_and_its_wal_and_shm_are_the_owners_only(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)  # the migrations create the file: the first thing a bot does
        async with engine.begin() as connection:  # a write with the connection open: WAL and SHM exist
            await connection.execute(text("INSERT INTO processed_updates (key, seen_at) "
                                          "VALUES ('u1', '2024-01-01 00:00:00')"))
            modes = _modes(database)
    finally:
        await engine.dispose()
    assert set(modes) >= {"", "-wal", "-shm"}
    assert modes == dict.fromkeys(modes, 0o600)
    assert _mode(tmp_path) == stat.S_IMODE(tmp_path.stat().st_mode)  # no directory of ours was touched


async def test_a_umask_that_takes_the_owners_bits_still_gives_0600(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    previous = os.umask(0o277)  # even the owner's write bit would go
    try:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
                modes = _modes(database)
        finally:
            await engine.dispose()
    finally:
        os.umask(previous)
    assert modes[""] == 0o600 and modes == dict.fromkeys(modes, 0o600)


@pytest.mark.usefixtures("umask_022")
async def test_files_an_earlier_release_left_readable_are_tightened(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").touch(mode=0o644)
        os.chmod(f"{database}{suffix}", 0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            modes = _modes(database)
    finally:
        await engine.dispose()
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


async def test_a_read_only_database_stays_read_only_for_its_owner(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    database.touch()
    os.chmod(database, 0o444)
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert _mode(database) == 0o400
