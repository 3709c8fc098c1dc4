"""An online copy of an SQLite database (``volunteer-loop db backup FILE``): SQLite's backup API
reads a consistent snapshot while the bot keeps writing, WAL included — a file copy of the
database under WAL can miss committed rows or be torn. PostgreSQL has ``pg_dump`` for this."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The backup cannot be made; the message is one line for the operator."""


def backup_sqlite(database: Path, target: Path) -> int:
    """Copy ``database`` to ``target`` (a new file, the owner's only); returns its size in bytes."""
    if not database.is_file():
        raise BackupError(f"no database file {database}")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never over an old backup
    except FileExistsError:
        raise BackupError(f"{target} exists already: choose a new file") from None
    except OSError as error:
        raise BackupError(f"{target}: {error.strerror or error}") from None
    os.close(descriptor)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
    finally:
        source.close()
    if verdict != "ok":
        raise BackupError(f"the copy in {target} failed its integrity check: {verdict}")
    return target.stat().st_size
