"""CSV cells typed by people are never read as formulas by a spreadsheet."""

from __future__ import annotations

import pytest

from bot.domain.spreadsheets import csv_text


@pytest.mark.parametrize("typed", ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_is_written_as_text(typed: str) -> None:
    assert csv_text(typed) == "'" + typed


@pytest.mark.parametrize("plain", ["社区义务维修", "Repair day", "求助 #12 维修", "R-100", "", "a=b"])
def test_plain_text_is_left_alone(plain: str) -> None:
    assert csv_text(plain) == plain
