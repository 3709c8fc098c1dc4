"""``volunteer-loop hours export --month YYYY-MM FILE`` in a subprocess: the month's service records
written as XLSX (opened with openpyxl) or CSV with the total check on stdout; a bad month or file
kind is one line on stderr with exit status 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from storage.db import create_engine, session_factory
from storage.models import Volunteer
from storage.uow import UnitOfWork
from tests.support.cli import one_line_error, run_cli, sqlite_config

SERVED_AT = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 1 December, 01:00 in Shanghai


async def _with_hours(tmp_path: Path) -> Path:
    path = sqlite_config(tmp_path)
    assert run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path).returncode == 0
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3")
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            team = await uow.teams.add("repair", "维修队", ["repair"])
            user = await uow.users.ensure(21, "张三", "zh")
            uow.session.add(Volunteer(user_id=user.id, team_id=team.id, name="张三", phone="+8613800000000",
                                      status="approved", registry_number="ZJ3301", created_at=uow.now()))
            await uow.session.flush()
            await uow.ledger.add(user.id, "order", 150, SERVED_AT, team_id=team.id)
            await uow.ledger.add(user.id, "honour", 60, SERVED_AT, team_id=team.id, reason="防汛")
            await uow.commit()
    finally:
        await engine.dispose()
    return path


async def test_hours_export_writes_the_month(tmp_path: Path) -> None:
    config = await _with_hours(tmp_path)
    out = tmp_path / "december.xlsx"
    done = run_cli("--config", str(config), "hours", "export", "--month", "2026-12", str(out), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (
        0, f"exported 1 service records, 2.50 hours, of 2026-12 to {out} (honour hours not exported: 1.00)\n")
    book = load_workbook(out, read_only=True)
    rows = list(book["服务记录"].iter_rows(values_only=True))
    book.close()
    assert rows == [("姓名", "志愿者编号", "服务项目", "服务日期", "服务时长(小时)"),
                    ("张三", "ZJ3301", "求助", "2026-12-01", 2.5)]
    november = run_cli("--config", str(config), "hours", "export", "--month", "2026-11", str(tmp_path / "n.csv"),
                       cwd=tmp_path)
    assert november.stdout.startswith("exported 0 service records, 0.00 hours")
    written = (tmp_path / "n.csv").read_text(encoding="utf-8-sig")
    assert written.splitlines() == ["姓名,志愿者编号,服务项目,服务日期,服务时长(小时)"]


async def test_a_bad_month_or_file_is_one_line(tmp_path: Path) -> None:
    config = await _with_hours(tmp_path)
    bad = one_line_error(run_cli("--config", str(config), "hours", "export", "--month", "2026-13", "out.xlsx",
                                 cwd=tmp_path))
    assert bad == "volunteer-loop: --month must be YYYY-MM, e.g. 2026-11 (got '2026-13')"
    kind = one_line_error(run_cli("--config", str(config), "hours", "export", "--month", "2026-11", "out.ods",
                                  cwd=tmp_path))
    assert kind == "volunteer-loop: out.ods: the export is written as .csv or .xlsx"
    folder = one_line_error(run_cli("--config", str(config), "hours", "export", "--month", "2026-11", "no/out.csv",
                                    cwd=tmp_path))
    assert folder == "volunteer-loop: no/out.csv: no such folder no"
