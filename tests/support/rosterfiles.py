"""Roster files as coordinators send them (CSV in any encoding, XLSX with a title row), written
for the roster tests of the service and of the command line."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

HEADER = ("姓名", "手机号", "志愿者编号", "社区", "服务队", "技能")


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
