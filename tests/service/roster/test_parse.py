"""Reading roster files: CSV (UTF-8 with or without BOM, GBK), XLSX, header aliases, file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.roster import RosterFileError, normalise_registry_number, read_rows
from tests.support.rosterfiles import write_csv, write_xlsx

ROW = ("张三", "138 0013 8000", "zj-3301-0612345", "东湖社区", "repair", "repair、delivery")
EXPECTED = {"name": "张三", "phone": "138 0013 8000", "registry_number": "zj-3301-0612345",
            "community": "东湖社区", "team": "repair", "skills": "repair、delivery"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "r.csv", [ROW], encoding=encoding)
    assert list(read_rows(path)) == [(2, EXPECTED)]


def test_xlsx_with_a_title_row_numbers_and_blank_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "r.xlsx", [ROW, (), ("李四", 13900139000, None, None, "配送队", None)],
                      above=[("东湖街道志愿者名册",)])
    assert list(read_rows(path)) == [
        (3, EXPECTED),
        (5, {"name": "李四", "phone": "13900139000", "registry_number": "", "community": "", "team": "配送队",
             "skills": ""}),
    ]


def test_an_xlsx_number_a_spreadsheet_rounded_is_read_as_the_spreadsheet_shows_it(tmp_path: Path) -> None:
    """An 18-digit registry number typed into a number cell keeps 15 digits: 1.23456789012345E+17.
    It is read as that text (which the registry number's check refuses, as in a CSV), never as the
    wrong digits 123456789012345000; whole numbers a spreadsheet keeps exactly stay digits."""
    rows = [("张三", 13800138000.0, 1.23456789012345e17, None, "repair", None),
            ("李四", 8613900139000, 999999999999999.0, None, "repair", None)]
    read = [(r["phone"], r["registry_number"]) for _, r in read_rows(write_xlsx(tmp_path / "r.xlsx", rows))]
    assert read == [("13800138000", "1.23456789012345E+17"), ("8613900139000", "999999999999999")]
    with pytest.raises(ValueError, match="rounded"):
        normalise_registry_number(read[0][1])


def test_english_aliases_any_order_extra_columns_ignored(tmp_path: Path) -> None:
    header = ("Skills", "Team", "Remarks", "Phone", "Registry Number", "Name", "community")
    path = write_csv(tmp_path / "r.csv", [("repair", "repair", "x", "13800138000", "", "Ann", "")], header=header)
    assert list(read_rows(path)) == [(2, {"skills": "repair", "team": "repair", "phone": "13800138000",
                                          "registry_number": "", "name": "Ann", "community": ""})]


def test_optional_columns_may_be_missing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [("Ann", "13800138000")], header=("name", "phone"))
    assert list(read_rows(path)) == [(2, {"name": "Ann", "phone": "13800138000"})]


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.csv", "no such file"),
    (lambda d: (d / "r.txt").write_text("x") and d / "r.txt", "unknown format '.txt'"),
    (lambda d: write_csv(d / "r.csv", [("a", "b")], header=("foo", "bar")), "no header row"),
    (lambda d: write_csv(d / "r.csv", [], header=("姓名", "name", "phone")), "two name columns"),
    (lambda d: (d / "r.xlsx").write_bytes(b"not a zip") and d / "r.xlsx", "not a readable XLSX"),
    (lambda d: (d / "r.csv").write_bytes(b"\xff\xfe\x00\xd8\x00\xdc" * 3) and d / "r.csv", "not UTF-8 or GBK"),
])
def test_file_errors(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(RosterFileError, match=message):
        list(read_rows(path))


@pytest.mark.parametrize(("raw", "stored"), [
    ("zj33010612345", "ZJ33010612345"), (" 3301 0612 3456 ", "330106123456"), ("ZJ-2024-000123", "ZJ-2024-000123"),
])
def test_registry_numbers(raw: str, stored: str) -> None:
    assert normalise_registry_number(raw) == stored


@pytest.mark.parametrize(("raw", "reason"), [
    ("1.23457E+17", "rounded"), ("N/A", "not a registry number"), ("ABCDEFG1", "not a registry number"),
    ("12345", "not a registry number"), ("-123456", "not a registry number"), ("见备注123456", "not a registry"),
])
def test_implausible_registry_numbers(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_registry_number(raw)
