"""Two processes starting at once on a fresh database migrate it once: the first holds the
migration lock (PostgreSQL's advisory lock, a lock file beside an SQLite file) and the others, once
it is theirs, find the schema at the head. Three engines stand for three processes here; the
command-line test starts real processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import current_revisions, head_revision, upgrade_if_behind
from tests.support.cli import cli_environment, config


async def test_engines_migrating_at_once_migrate_once(bare_engine: AsyncEngine, database_url: str) -> None:
    others = [create_engine(database_url) for _ in range(2)]
    try:
        await asyncio.gather(*(upgrade_if_behind(engine) for engine in (bare_engine, *others)))  # none fails
    finally:
        for engine in others:
            await engine.dispose()
    assert await current_revisions(bare_engine) == [head_revision()]


def test_processes_starting_at_once_migrate_once(database_url: str, tmp_path: Path) -> None:
    settings = config(tmp_path, f'[database]\nurl = "{database_url}"\n')
    starts = [subprocess.Popen([sys.executable, "-m", "bot", "--config", str(settings), "db", "upgrade"], cwd=tmp_path,
                               env=cli_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0], results
    upgrades = [err.count("Running upgrade  -> 0001") for _, err in results]
    assert sorted(upgrades) == [0, 0, 1], results  # the first migration ran in one process only
