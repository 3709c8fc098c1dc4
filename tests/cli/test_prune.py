"""``volunteer-loop db prune``: one housekeeping pass from the command line (what the running bot
does every ``[housekeeping] interval_minutes``), answered in one line. The rows are dated far in the
past or the future, so the real clock of the command decides nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.cli import config, run_cli, sqlite_config


def test_db_prune_deletes_old_update_ids_and_outbox_rows(tmp_path: Path) -> None:
    path = sqlite_config(tmp_path, "[ingest]\nparked_retention_days = 2\n"
                                   "[housekeeping]\nprocessed_updates_days = 2\noutbox_days = 3\n")
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as database:
        database.executemany("INSERT INTO processed_updates (key, seen_at) VALUES (?, ?)",
                             [("old-1", "2020-01-01 00:00:00"), ("old-2", "2020-01-02 00:00:00"),
                              ("future", "2999-01-01 00:00:00")])
        database.executemany(
            "INSERT INTO outbox (kind, chat_id, payload, status, attempts, not_before, created_at, message_id) "
            "VALUES ('send', 42, '{}', 'sent', 1, ?, ?, ?)",
            [(at, at, number) for number, at in enumerate(["2020-01-01 00:00:00", "2020-01-02 00:00:00",
                                                           "2020-01-03 00:00:00"], start=1)])
    database.close()

    result = run_cli("--config", str(path), "db", "prune", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "pruned 2 update id(s) older than 2 days and 2 outbox row(s) older than 3 days"]
    with sqlite3.connect(tmp_path / "bot.sqlite3") as database:
        assert database.execute("SELECT key FROM processed_updates").fetchall() == [("future",)]
        assert database.execute("SELECT message_id FROM outbox").fetchall() == [(3,)]  # the chat's latest
    database.close()


def test_db_rebuild_measures_recounts_the_summaries_in_the_configured_zone(tmp_path: Path) -> None:
    """A summary out of step (as after a change of zone) is recomputed from the raw rows (none here),
    the months cut at the configured zone's offset: New York's in winter or in summer, whichever the
    command's own clock finds."""
    path = config(tmp_path, f'timezone = "America/New_York"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"\n')
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as database:
        database.execute("INSERT INTO measure_counts (month, kind, axis, key, n) "
                         "VALUES (202601, 'counted', 'd', '', 7)")
        assert database.execute("SELECT offset_minutes FROM measure_clock").fetchall() == [(480,)]
    database.close()

    result = run_cli("--config", str(path), "db", "rebuild-measures", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] in ("measure summaries rebuilt; months cut at UTC-05:00",
                                             "measure summaries rebuilt; months cut at UTC-04:00")
    with sqlite3.connect(tmp_path / "bot.sqlite3") as database:
        assert database.execute("SELECT count(*) FROM measure_counts").fetchall() == [(0,)]
        assert database.execute("SELECT offset_minutes FROM measure_clock").fetchall() in ([(-300,)], [(-240,)])
    database.close()
