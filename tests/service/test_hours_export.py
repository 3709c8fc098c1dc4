"""The ledger's files (sqlite, and postgresql with TEST_DATABASE_URL): the registry export as XLSX,
opened with openpyxl — its header, one row per entry with corrections folded in, zero and honour
entries left out, the month in Shanghai's time, and totals equal to the ledger's — and as CSV
likewise; the certificate PDF, whose text (read back with pypdf) holds the name, the registry
number, the team, the services and the total."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pypdf import PdfReader

from bot.services.hours import month_period, year_period
from bot.services.hours_files import EXPORT_HEADER, export_month, write_certificate
from storage.ledger import ACTIVITY, HONOUR, ORDER, SERVED
from storage.models import Activity, Volunteer
from tests.support.dbfixtures import UowFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


async def district(uow_factory: UowFactory) -> dict[str, int]:
    """Two volunteers of team 维修队 with November's and December's entries; returns ids by name."""
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "维修队", ["repair"])
        people = {}
        for telegram_id, name, number in ((11, "张三", "ZJ3301"), (12, "李四", "ZJ3302")):
            user = await uow.users.ensure(telegram_id, name, "zh")
            uow.session.add(Volunteer(user_id=user.id, team_id=team.id, name=name, phone="+8613800000000",
                                      status="approved", registry_number=number, created_at=uow.now()))
            people[name] = user.id
        resident = await uow.users.ensure(13, "王奶奶", "zh")
        order = await uow.orders.add(resident_id=resident.id, status="closed", category="repair", community="东湖社区",
                                     when_text="today", contact_name="王", contact_phone="+8613800000001")
        activity = Activity(team_id=team.id, title="义务维修日", place="社区活动室", starts_at=local(11, 8),
                            ends_at=local(11, 8, 12), capacity=9, signup_deadline=local(11, 7), code="A1",
                            created_at=uow.now(), updated_at=uow.now())
        uow.session.add(activity)
        await uow.session.flush()
        zhang, li = people["张三"], people["李四"]
        first = await uow.ledger.add(zhang, ORDER, 90, local(11, 3), team_id=team.id, order_id=order.id, round=1)
        await uow.ledger.add(zhang, ACTIVITY, 180, local(11, 8), team_id=team.id, activity_id=activity.id)
        await uow.ledger.add(li, ACTIVITY, 170, local(11, 8), team_id=team.id, activity_id=activity.id)
        gone = await uow.ledger.add(li, ORDER, 20, local(11, 30, 23), team_id=team.id, order_id=order.id, round=2)
        await uow.ledger.add(li, HONOUR, 120, local(11, 20), team_id=team.id, reason="防汛值守")
        await uow.ledger.add(zhang, ORDER, 60, local(12, 1, 0), team_id=team.id)  # 1 December 00:00: not November
        await uow.ledger.add(li, ORDER, 45, local(10, 31, 23), team_id=team.id)  # October
        await uow.ledger.correct(first.id, 30, "忘了算回程", li)
        await uow.ledger.correct(gone.id, -20, "没去成", zhang)
        await uow.commit()
    return people


async def ledger_minutes(uow_factory: UowFactory, people: dict[str, int]) -> int:
    """November's minutes served, from the ledger's own totals."""
    async with uow_factory() as uow:
        month = month_period(SHANGHAI, 2026, 11)
        total = 0
        for user_id in people.values():
            totals = await uow.ledger.totals(user_id, month, year_period(SHANGHAI, 2026))
            total += sum(totals[s].month for s in SERVED if s in totals)
        return total


EXPECTED = [("张三", "ZJ3301", "求助 #1 维修", "2026-11-03", 2),
            ("张三", "ZJ3301", "义务维修日", "2026-11-08", 3),
            ("李四", "ZJ3302", "义务维修日", "2026-11-08", 2.83)]


async def test_the_registry_export_as_xlsx(uow_factory: UowFactory, tmp_path: Path) -> None:
    people = await district(uow_factory)
    path = tmp_path / "2026-11.xlsx"
    report = await export_month(uow_factory, path, 2026, 11, SHANGHAI)
    book = load_workbook(path, read_only=True)
    rows = [tuple(row) for row in book["服务记录"].iter_rows(values_only=True)]
    check = dict(book["核对"].iter_rows(values_only=True))
    book.close()
    assert rows[0] == EXPORT_HEADER == ("姓名", "志愿者编号", "服务项目", "服务日期", "服务时长(小时)")
    assert rows[1:] == EXPECTED
    assert (report.rows, report.minutes, report.honour_minutes) == (3, 120 + 180 + 170, 120)
    assert report.minutes == await ledger_minutes(uow_factory, people)
    assert round(sum(row[4] for row in rows[1:]), 1) == round(report.minutes / 60, 1)
    assert check == {"月份": "2026-11", "记录数": 3, "合计时长(小时)": 7.83, "未导出的表彰时长(小时)": 2}


async def test_the_registry_export_as_csv(uow_factory: UowFactory, tmp_path: Path) -> None:
    people = await district(uow_factory)
    path = tmp_path / "2026-11.csv"
    report = await export_month(uow_factory, path, 2026, 11, SHANGHAI)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs need
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(EXPORT_HEADER)
    assert rows[1:] == [[name, number, item, day, f"{hours:g}"] for name, number, item, day, hours in EXPECTED]
    assert report.minutes == await ledger_minutes(uow_factory, people) == 470


async def test_the_certificate_holds_the_name_number_team_services_and_total(uow_factory: UowFactory,
                                                                            tmp_path: Path) -> None:
    people = await district(uow_factory)
    path = tmp_path / "certificate.pdf"
    await write_certificate(uow_factory, path, people["李四"], dt.date(2026, 11, 1), dt.date(2026, 11, 30),
                            tz=SHANGHAI, issued=dt.date(2026, 12, 2), centre="东湖社区志愿服务站")
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    flat = "".join(text.split())
    for expected in ("志愿服务记录证明", "姓名：李四", "志愿者编号：ZJ3302", "所在队伍：维修队", "义务维修日",
                     "服务时长合计：2.83小时", "共1次服务", "另有表彰时长2小时", "2026年11月1日至2026年11月30日",
                     "开具日期：2026年12月2日", "VolunteerLoop—东湖社区志愿服务站"):
        assert expected in flat, (expected, text)
    assert "求助" not in flat  # the zeroed request is no service of hers


async def test_typed_text_is_never_a_formula_in_either_file(uow_factory: UowFactory, tmp_path: Path) -> None:
    """An activity title a leader typed as a formula reaches the coordinator's spreadsheet as text."""
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "维修队", ["repair"])
        user = await uow.users.ensure(11, "张三", "zh")
        uow.session.add(Volunteer(user_id=user.id, team_id=team.id, name="@张三", phone="+8613800000000",
                                  status="approved", registry_number="ZJ3301", created_at=uow.now()))
        activity = Activity(team_id=team.id, title='=HYPERLINK("http://x.example","点我")', place="社区活动室",
                            starts_at=local(11, 8), ends_at=local(11, 8, 12), capacity=9,
                            signup_deadline=local(11, 7), code="A1", created_at=uow.now(), updated_at=uow.now())
        uow.session.add(activity)
        await uow.session.flush()
        await uow.ledger.add(user.id, ACTIVITY, 60, local(11, 8), team_id=team.id, activity_id=activity.id)
        await uow.commit()
    await export_month(uow_factory, tmp_path / "m.csv", 2026, 11, SHANGHAI)
    with (tmp_path / "m.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1][:3] == ["'@张三", "ZJ3301", "'=HYPERLINK(\"http://x.example\",\"点我\")"]
    await export_month(uow_factory, tmp_path / "m.xlsx", 2026, 11, SHANGHAI)
    book = load_workbook(tmp_path / "m.xlsx")
    cell = book["服务记录"]["C2"]
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://x.example","点我")')
    book.close()
