"""Importing the roster into the database (sqlite, and postgresql with TEST_DATABASE_URL)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.roster import ImportReport, RowError, export_roster, import_roster
from storage.models import Volunteer
from tests.service.roster.conftest import SKILLS
from tests.support.dbfixtures import UowFactory
from tests.support.rosterfiles import write_csv, write_xlsx

ROWS = [
    ("张三", "138 0013 8000", "ZJ33010612345", "东湖社区", "repair", "repair;delivery"),
    ("李四", "13900139000", "", "西湖社区", "配送队", "delivery、housekeeping"),
    ("Ann Lee", "+44 20 7946 0958", "zj-2024-000123", "", "DELIVERY", ""),
]


async def run(uow_factory: UowFactory, path: Path, **options: Any) -> ImportReport:
    return await import_roster(uow_factory, path, skills=SKILLS, **options)


async def volunteers(uow_factory: UowFactory) -> list[Volunteer]:
    async with uow_factory() as uow:
        found = list((await uow.session.scalars(select(Volunteer).order_by(Volunteer.id))).all())
        uow.session.expunge_all()  # keep the loaded values past the rollback
        return found


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.unchanged, report.failed


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_then_reimport_changes_nothing(uow_factory: UowFactory, teams: dict[str, int],
                                                    tmp_path: Path, fmt: str) -> None:
    path = (write_csv if fmt == "csv" else write_xlsx)(tmp_path / f"r.{fmt}", ROWS)

    first = await run(uow_factory, path)
    assert (first.rows, counts(first), first.errors) == (3, (3, 0, 0, 0), [])
    stored = await volunteers(uow_factory)
    assert [(v.name, v.phone, v.registry_number, v.community, v.team_id, v.skills, v.source, v.status, v.user_id)
            for v in stored] == [
        ("张三", "+8613800138000", "ZJ33010612345", "东湖社区", teams["repair"], ["repair", "delivery"], "roster",
         "approved", None),
        ("李四", "+8613900139000", None, "西湖社区", teams["delivery"], ["delivery", "housekeeping"], "roster",
         "approved", None),
        ("Ann Lee", "+442079460958", "ZJ-2024-000123", "", teams["delivery"], [], "roster", "approved", None),
    ]

    second = await run(uow_factory, path)
    assert counts(second) == (0, 0, 3, 0)
    assert [(v.id, v.name) for v in await volunteers(uow_factory)] == [(v.id, v.name) for v in stored]


async def test_dry_run_reports_and_writes_nothing(uow_factory: UowFactory, teams: dict[str, int],
                                                  tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [*ROWS, ("", "1", "", "", "repair", "")])
    report = await run(uow_factory, path, dry_run=True)
    assert counts(report) == (3, 0, 0, 1) and report.dry_run
    assert report.summary().startswith("dry run, nothing written: 4 rows")
    assert await volunteers(uow_factory) == []


async def test_match_by_registry_number_then_phone(uow_factory: UowFactory, teams: dict[str, int],
                                                   tmp_path: Path) -> None:
    await run(uow_factory, write_csv(tmp_path / "a.csv", ROWS))
    async with uow_factory() as uow:  # someone who registered through the bot, no registry number
        user = await uow.users.ensure(777, "Wang")
        bot_volunteer = await uow.volunteers.add(user.id, teams["repair"], "王五", "+8613700137000")
        await uow.commit()
    before = {v.name: v.id for v in await volunteers(uow_factory)}

    changed = [
        ("张三", "13800000001", "zj33010612345", "东湖社区", "repair", "repair;delivery"),  # new phone, same number
        ("李四", "13900139000", "ZJ55555555", "西湖社区", "delivery", "delivery"),  # matched by phone, gets a number
        ("王五", "137-0013-7000", "", "南湖社区", "维修队", "repair"),  # the bot volunteer, by phone
        ("Ann Lee", "+44 20 7946 0958", "zj-2024-000123", "", "delivery", ""),  # unchanged
        ("赵六", "13900139000", "ZJ66666666", "", "delivery", ""),  # shares 李四's phone, other number: new
    ]
    report = await run(uow_factory, write_csv(tmp_path / "b.csv", changed))
    assert (counts(report), report.errors) == ((1, 3, 1, 0), [])

    after = {v.name: v for v in await volunteers(uow_factory)}
    assert after["张三"].id == before["张三"] and after["张三"].phone == "+8613800000001"
    assert after["李四"].id == before["李四"] and after["李四"].registry_number == "ZJ55555555"
    assert after["李四"].skills == ["delivery"]
    wang = after["王五"]
    assert (wang.id, wang.user_id, wang.source, wang.status, wang.community, wang.skills) == (
        bot_volunteer.id, user.id, "bot", "pending", "南湖社区", ["repair"])
    assert after["赵六"].id not in before.values() and after["赵六"].phone == "+8613900139000"

    again = await run(uow_factory, write_csv(tmp_path / "b.csv", changed))
    assert counts(again) == (0, 0, 5, 0)


async def test_an_empty_registry_number_cell_keeps_the_stored_one(uow_factory: UowFactory, teams: dict[str, int],
                                                                 tmp_path: Path) -> None:
    await run(uow_factory, write_csv(tmp_path / "a.csv", ROWS[:1]))
    report = await run(uow_factory, write_csv(tmp_path / "b.csv", [("张三", "13800138000", "", "东湖社区", "repair",
                                                                    "repair;delivery")]))
    assert counts(report) == (0, 0, 1, 0)
    assert [v.registry_number for v in await volunteers(uow_factory)] == ["ZJ33010612345"]


async def test_each_bad_row_is_reported_and_the_rest_imported(uow_factory: UowFactory, teams: dict[str, int],
                                                              tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        ("", "13800138001", "", "", "repair", ""),  # 3: no name
        ("A", "", "", "", "repair", ""),  # 4: no phone
        ("B", "call me", "", "", "repair", ""),  # 5: not a phone
        ("C", "13800138003", "1.23457E+17", "", "repair", ""),  # 6: rounded registry number
        ("D", "13800138004", "", "", "", ""),  # 7: no team
        ("E", "13800138005", "", "", "plumbing", ""),  # 8: unknown team
        ("F", "13800138006", "", "", "repair", "repair;flying"),  # 9: unknown skill
        ("G", "13800138000", "", "", "repair", ""),  # 10: 张三's phone again (row 2)
        ("H", "13800138008", "zj33010612345", "", "repair", ""),  # 11: 张三's number again
        ("I" * 129, "13800138009", "", "x" * 129, "repair", ""),  # 12: name and community too long
        ROWS[1],
    ]
    report = await run(uow_factory, write_csv(tmp_path / "r.csv", rows))
    assert counts(report) == (2, 0, 0, 10)
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "name"), (4, "phone"), (5, "phone"), (6, "registry_number"), (7, "team"), (8, "team"), (9, "skills"),
        (10, "phone"), (11, "registry_number"), (12, "name"), (12, "community")]
    assert "rounded" in report.errors[3].reason and "already in row 2" in report.errors[7].reason
    assert str(report.errors[5]) == "row 8, team: no team 'plumbing' (use a team code or name)"
    assert sorted(v.name for v in await volunteers(uow_factory)) == ["张三", "李四"]


async def test_a_rounded_xlsx_number_is_refused_like_the_same_csv_text(uow_factory: UowFactory,
                                                                        teams: dict[str, int],
                                                                        tmp_path: Path) -> None:
    """The registry number 123456789012345678 in a number cell of a workbook is 1.23456789012345E+17:
    the row is refused with the CSV's reason, and no volunteer gets the wrong digits."""
    rounded = [("C", 13800138003, 123456789012345678.0, "", "repair", "")]
    from_xlsx = await run(uow_factory, write_xlsx(tmp_path / "r.xlsx", rounded))
    from_csv = await run(uow_factory, write_csv(tmp_path / "r.csv", [("C", "13800138003", "1.23456789012345E+17",
                                                                        "", "repair", "")]))
    assert counts(from_xlsx) == counts(from_csv) == (0, 0, 0, 1)
    assert from_xlsx.errors == from_csv.errors and from_xlsx.errors[0].column == "registry_number"
    assert "rounded" in from_xlsx.errors[0].reason
    assert await volunteers(uow_factory) == []


async def test_two_rows_landing_on_one_stored_volunteer(uow_factory: UowFactory, teams: dict[str, int],
                                                        tmp_path: Path) -> None:
    await run(uow_factory, write_csv(tmp_path / "a.csv", [ROWS[0]]))
    rows = [("张三", "13800138000", "", "", "repair", ""),  # by phone
            ("张三", "13811111111", "ZJ33010612345", "", "repair", "")]  # by number: the same person
    report = await run(uow_factory, write_csv(tmp_path / "b.csv", rows))
    assert report.errors == [RowError(3, "row", "the same volunteer as row {other}", (("other", 2),))]
    assert counts(report) == (0, 1, 0, 1)


async def test_one_percent_broken_rows(uow_factory: UowFactory, teams: dict[str, int], tmp_path: Path) -> None:
    """A generated 3,000-row roster with 1% broken rows, in batches of 250: the rest is imported and
    every broken row is reported with its row number."""
    randomiser = random.Random(7)
    broken = set(randomiser.sample(range(3000), 30))
    rows = []
    for i in range(3000):
        row = [f"志愿者{i}", f"139{i:08d}", f"ZJ{i:010d}", f"社区{i % 17}", ("repair", "delivery")[i % 2],
               "repair;delivery"]
        if i in broken:
            row[randomiser.choice([0, 1, 4])] = ""
        rows.append(row)
    path = write_csv(tmp_path / "r.csv", rows)

    report = await run(uow_factory, path, batch_size=250)
    assert counts(report) == (2970, 0, 0, 30)
    assert sorted(e.row for e in report.errors) == sorted(i + 2 for i in broken)
    assert all(e.reason == "missing" for e in report.errors)
    assert len(await volunteers(uow_factory)) == 2970
    assert counts(await run(uow_factory, path, batch_size=250)) == (0, 0, 2970, 30)


async def test_a_constraint_conflict_fails_only_its_row(uow_factory: UowFactory, teams: dict[str, int],
                                                        tmp_path: Path) -> None:
    async with uow_factory() as uow:  # one Telegram account in both teams, with two phones
        user = await uow.users.ensure(778, "Zhou")
        await uow.volunteers.add(user.id, teams["repair"], "周", "+8613600136000")
        await uow.volunteers.add(user.id, teams["delivery"], "周", "+8613600136001")
        await uow.commit()
    rows = [ROWS[0], ("周", "13600136000", "", "", "delivery", ""), ROWS[1]]  # moving the repair row to delivery
    report = await run(uow_factory, write_csv(tmp_path / "r.csv", rows))
    assert counts(report) == (2, 0, 0, 1)
    assert [(e.row, e.column) for e in report.errors] == [(3, "row")]
    assert "conflicts" in report.errors[0].reason


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_export_then_import_round_trip(uow_factory: UowFactory, teams: dict[str, int], tmp_path: Path,
                                             fmt: str) -> None:
    await run(uow_factory, write_csv(tmp_path / "a.csv", ROWS))
    async with uow_factory() as uow:
        user = await uow.users.ensure(779, "Bot")
        await uow.volunteers.add(user.id, teams["repair"], "Bot person", "+8613500135000")
        rejected = await uow.volunteers.add(user.id, teams["delivery"], "Rejected", "+8613500135001")
        await uow.volunteers.decide(rejected.id, approve=False)
        await uow.commit()

    out = tmp_path / f"roster.{fmt}"
    assert await export_roster(uow_factory, out, page=2) == 4
    report = await run(uow_factory, out)
    assert (counts(report), report.errors) == ((0, 0, 4, 0), [])
    if fmt == "csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "姓名,手机号,志愿者编号,社区,服务队,技能"
        assert lines[1] == "张三,13800138000,ZJ33010612345,东湖社区,repair,repair;delivery"


async def test_the_documented_sample_imports_cleanly(uow_factory: UowFactory, teams: dict[str, int]) -> None:
    sample = Path(__file__).resolve().parents[3] / "docs" / "roster-sample.csv"
    report = await run(uow_factory, sample)
    assert (counts(report), report.errors) == ((4, 0, 0, 0), [])
    assert counts(await run(uow_factory, sample)) == (0, 0, 4, 0)
