"""``volunteer-loop volunteers import|export`` in a subprocess: the report on stdout, file problems as
one line on stderr with exit status 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.cli import one_line_error, run_cli, sqlite_config
from tests.support.rosterfiles import write_csv

ROWS = [("张三", "13800138000", "ZJ33010612345", "东湖社区", "repair", "repair;delivery"),
        ("李四", "bad phone", "", "", "repair", "")]


def _with_team(tmp_path: Path) -> Path:
    path = sqlite_config(tmp_path)
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        db.execute("INSERT INTO teams (code, name, categories, active, created_at) "
                   "VALUES ('repair', '维修队', '[\"repair\"]', 1, '2026-01-15 09:30:00+00:00')")
    return path


def test_import_dry_run_import_export(tmp_path: Path) -> None:
    config = _with_team(tmp_path)
    roster = write_csv(tmp_path / "roster.csv", ROWS)

    dry = run_cli("--config", str(config), "volunteers", "import", str(roster), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1, dry.stderr
    assert dry.stdout.splitlines() == [
        "dry run, nothing written: 2 rows: 1 created, 0 updated, 0 unchanged, 1 failed",
        "row 3, phone: not a phone number: 'bad phone'"]

    done = run_cli("--config", str(config), "volunteers", "import", str(roster), cwd=tmp_path)
    assert done.stdout.splitlines()[0] == "2 rows: 1 created, 0 updated, 0 unchanged, 1 failed"

    out = tmp_path / "out.xlsx"
    exported = run_cli("--config", str(config), "volunteers", "export", str(out), cwd=tmp_path)
    assert (exported.returncode, exported.stdout) == (0, f"exported 1 volunteers to {out}\n")

    again = run_cli("--config", str(config), "volunteers", "import", str(out), cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "1 rows: 0 created, 0 updated, 1 unchanged, 0 failed\n")


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    config = _with_team(tmp_path)
    missing = one_line_error(run_cli("--config", str(config), "volunteers", "import", "nope.csv", cwd=tmp_path))
    assert missing == "volunteer-loop: nope.csv: no such file"
    (tmp_path / "roster.ods").write_text("x")
    unknown = one_line_error(run_cli("--config", str(config), "volunteers", "import", "roster.ods", cwd=tmp_path))
    assert unknown == "volunteer-loop: roster.ods: unknown format '.ods'; use .csv or .xlsx"
    no_dir = one_line_error(run_cli("--config", str(config), "volunteers", "export", "no/such/out.csv",
                                    cwd=tmp_path))
    assert no_dir == "volunteer-loop: no/such: no such directory"
