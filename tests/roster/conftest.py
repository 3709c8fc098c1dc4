"""Roster fixtures: two teams in a migrated database (sqlite, and postgresql with TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from bot.settings import DEFAULT_CATEGORIES
from tests.dbfixtures import UowFactory

SKILLS = tuple(DEFAULT_CATEGORIES)
HEADER = ("姓名", "手机号", "志愿者编号", "社区", "服务队", "技能")


@pytest.fixture
async def teams(uow_factory: UowFactory) -> dict[str, int]:
    async with uow_factory() as uow:
        repair = await uow.teams.add("repair", "维修队", ["repair"])
        delivery = await uow.teams.add("delivery", "配送队", ["delivery", "housekeeping"])
        await uow.commit()
        return {"repair": repair.id, "delivery": delivery.id}


def write_csv(path: Path, rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER,
              encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER,
               above: Sequence[Sequence[object]] = ()) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    for line in above:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path
