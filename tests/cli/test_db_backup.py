"""``volunteer-loop db backup FILE``: an online copy of the SQLite database that holds every committed
row while another connection keeps writing under WAL (a copy of the file alone would miss them), passes
its integrity check, is the owner's only, and is a database the bot opens. On PostgreSQL it points to
pg_dump in one line."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from tests.support.cli import config, one_line_error, run_cli, sqlite_config

INSERT = ("INSERT INTO users (telegram_id, first_name, is_coordinator, unreachable, on_duty, menu_roles, "
          "request_drafts, created_at) VALUES (?, 'x', 0, 0, 1, '', 0, '2026-01-01 00:00:00')")


def test_a_backup_while_a_writer_holds_the_wal_has_every_committed_row(tmp_path: Path) -> None:
    settings = sqlite_config(tmp_path)
    assert run_cli("--config", str(settings), "db", "upgrade", cwd=tmp_path).returncode == 0
    writer = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the rows stay in the WAL, not in the main file
        writer.executemany(INSERT, [(n,) for n in range(500)])
        writer.commit()
        naive = tmp_path / "file-copy.sqlite3"
        naive.write_bytes((tmp_path / "bot.sqlite3").read_bytes())
        result = run_cli("--config", str(settings), "db", "backup", "copy.sqlite3", cwd=tmp_path)
        writer.execute(INSERT, (9999,))  # after the backup: not in it
        writer.commit()
    finally:
        writer.close()
    assert result.returncode == 0 and "backed up" in result.stdout, result.stderr
    copy = tmp_path / "copy.sqlite3"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as backup, sqlite3.connect(naive) as file_copy:
        assert backup.execute("SELECT count(*) FROM users").fetchone() == (500,)
        assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert file_copy.execute("SELECT count(*) FROM users").fetchone() == (0,)  # what a file copy would keep
    restored = config(tmp_path, f'[database]\nurl = "sqlite+aiosqlite:///{copy}"\n', name="restored.toml")
    assert "up to date" in run_cli("--config", str(restored), "db", "upgrade", cwd=tmp_path).stdout

    again = run_cli("--config", str(settings), "db", "backup", "copy.sqlite3", cwd=tmp_path)
    assert "exists already" in one_line_error(again)


def test_on_postgresql_it_points_to_pg_dump(tmp_path: Path) -> None:
    settings = config(tmp_path, '[database]\nurl = "postgresql+asyncpg://u@127.0.0.1:1/district"\n')
    line = one_line_error(run_cli("--config", str(settings), "db", "backup", "d.dump", cwd=tmp_path))
    assert "pg_dump --format=custom --file d.dump district" in line
    assert "FILE" in one_line_error(run_cli("--config", str(sqlite_config(tmp_path)), "db", "backup", cwd=tmp_path))
