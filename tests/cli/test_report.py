"""``volunteer-loop report`` and ``households import`` in a subprocess, on the known month
(tests/support/known_month.py): JSON gives every rate with its numerator and denominator, the
XLSX's sheets hold the same figures, the text names them; a bad month, an unknown team or
community, xlsx or png without a file are one line on stderr with exit status 2. The PNG charts
(the rates month by month, the teams side by side) are real images drawn with the packaged Chinese
font (a missing glyph would be a warning, and warnings fail the command's tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from PIL import Image

from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork
from tests.support.cli import one_line_error, run_cli, sqlite_config
from tests.support.dbfixtures import FakeClock
from tests.support.known_month import known_month


async def _world(tmp_path: Path) -> Path:
    path = sqlite_config(tmp_path, '[measures]\nresponse_minutes = 60\n')
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3")
    clock = FakeClock()
    try:
        await known_month(lambda update_key=None: UnitOfWork(session_factory(engine), clock=clock), clock)
    finally:
        await engine.dispose()
    return path


def figures(measures: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {name: (value["numerator"], value["denominator"]) for name, value in measures.items()
            if isinstance(value, dict)}


def sheet_figures(row: tuple[Any, ...], names: list[str]) -> dict[str, tuple[int, int]]:
    return {name: (row[1 + 3 * i], row[2 + 3 * i]) for i, name in enumerate(names)}


async def test_the_reports_json_xlsx_and_text_agree(tmp_path: Path) -> None:
    config = await _world(tmp_path)
    done = run_cli("--config", str(config), "report", "--month", "2026-01", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    district = figures(report["measures"])
    assert district["satisfaction"] == (2, 4) and district["unrated"] == (1, 5) and district["awareness"] == (6, 180)
    assert report["measures"]["median_accept_minutes"] == 20
    names = [name for name in report["measures"] if isinstance(report["measures"][name], dict)]

    out = tmp_path / "january.xlsx"
    written = run_cli("--config", str(config), "report", "--month", "2026-01", "--format", "xlsx", "--output",
                      str(out), cwd=tmp_path)
    assert (written.returncode, written.stdout) == (0, f"wrote the report of 2026-01 to {out}\n")
    book = load_workbook(out, read_only=True)
    sheets = {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    book.close()
    assert list(sheets) == ["总览", "按队伍", "按社区", "按月", "订单"]
    assert sheet_figures(sheets["总览"][1], names) == district
    by_team = {row[0]: sheet_figures(row, names) for row in sheets["按队伍"][1:]}
    assert by_team == {entry["team"]: figures(entry["measures"]) for entry in report["by_team"]}
    by_community = {row[0]: sheet_figures(row, names) for row in sheets["按社区"][1:]}
    assert by_community == {entry["community"]: figures(entry["measures"]) for entry in report["by_community"]}
    assert sheet_figures(sheets["按月"][1], names) == district
    assert len(sheets["订单"]) == 1 + 8

    team = run_cli("--config", str(config), "report", "--month", "2026-01", "--team", "repair", "--format", "json",
                   cwd=tmp_path)
    assert figures(json.loads(team.stdout)["measures"])["satisfaction"] == (2, 3)
    text = run_cli("--config", str(config), "report", "--month", "2026-01", "--community", "东湖社区", cwd=tmp_path)
    assert text.returncode == 0
    assert "知晓率（已覆盖户数 / 总户数）：2 / 100 (2.0%)" in text.stdout.splitlines()


async def test_households_import_sets_and_reports_bad_rows(tmp_path: Path) -> None:
    config = await _world(tmp_path)
    csv = tmp_path / "households.csv"
    csv.write_text("building,community,households\nA1,,300\n,东湖社区,900\nZ9,,10\nB1,,many\n", encoding="utf-8")
    done = run_cli("--config", str(config), "households", "import", str(csv), cwd=tmp_path)
    assert (done.returncode, done.stdout.splitlines()) == (1, [
        "set households of 2 buildings or communities", "line 4: no building 'Z9'",
        "line 5: households must be a whole number from 0 to 100000"])
    report = run_cli("--config", str(config), "report", "--month", "2026-01", "--community", "东湖社区", "--format",
                     "json", cwd=tmp_path)
    assert figures(json.loads(report.stdout)["measures"])["awareness"] == (2, 900)  # its own figure wins


async def test_bad_arguments_are_one_line(tmp_path: Path) -> None:
    config = await _world(tmp_path)

    def error(*args: str) -> str:
        return one_line_error(run_cli("--config", str(config), "report", *args, cwd=tmp_path))

    assert error("--month", "2026-13") == "volunteer-loop: --month must be YYYY-MM, e.g. 2026-11 (got '2026-13')"
    assert error("--month", "2026-01", "--team", "nope") == "volunteer-loop: 没有找到队伍 nope。"
    assert error("--month", "2026-01", "--community", "月亮社区") == "volunteer-loop: 没有找到社区“月亮社区”。"
    assert error("--month", "2026-01", "--format", "xlsx") == "volunteer-loop: --format xlsx needs --output FILE"
    assert error("--month", "2026-01", "--format", "png") == "volunteer-loop: --format png needs --output FILE"
    missing = one_line_error(run_cli("--config", str(config), "households", "import", "nope.csv", cwd=tmp_path))
    assert missing.startswith("volunteer-loop: nope.csv: ")


async def test_the_charts_as_png(tmp_path: Path) -> None:
    config = await _world(tmp_path)
    out = tmp_path / "january.png"
    done = run_cli("--config", str(config), "report", "--month", "2026-01", "--format", "png", "--output", str(out),
                   cwd=tmp_path)
    teams = tmp_path / "january-teams.png"
    assert (done.returncode, done.stderr) == (0, "")  # no "Glyph … missing" warning either
    assert done.stdout.splitlines() == [f"wrote the months chart of 2026-01 to {out}",
                                        f"wrote the teams chart of 2026-01 to {teams}"]
    for path in (out, teams):
        with Image.open(path) as image:
            low, high = image.convert("L").getextrema()
            assert image.format == "PNG" and image.width >= 800 and high - low > 100  # drawn, not blank
