"""Quiet hours: parsing and the local-time window, across midnight, with an injected time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.quiet_hours import in_quiet_hours, parse_range, quiet_until
from storage.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("text", "expected"), [("22:00-07:00", (1320, 420)), ("22-7", (1320, 420)),
                                            ("13:30 – 14:00", (810, 840)), ("0:05~6:45", (5, 405))])
def test_ranges_are_read(text: str, expected: tuple[int, int]) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "22:00", "25:00-07:00", "22:61-07:00", "7-7", "night"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_range(text)


@pytest.mark.parametrize(("local_time", "quiet"), [(dt.time(21, 59), False), (dt.time(22, 0), True),
                                               (dt.time(3, 0), True), (dt.time(6, 59), True), (dt.time(7, 0), False),
                                               (dt.time(12, 0), False)])
def test_a_window_across_midnight_in_local_time(local_time: dt.time, quiet: bool) -> None:
    user = User(telegram_id=1, quiet_start=22 * 60, quiet_end=7 * 60)
    now = dt.datetime.combine(dt.date(2026, 11, 29), local_time, tzinfo=SHANGHAI).astimezone(dt.UTC)
    assert in_quiet_hours(user, now, SHANGHAI) is quiet


def test_no_quiet_hours_means_never_quiet() -> None:
    user = User(telegram_id=1)
    assert not in_quiet_hours(user, dt.datetime(2026, 11, 29, 15, tzinfo=dt.UTC), SHANGHAI)


@pytest.mark.parametrize(("local_time", "until"), [(dt.time(22, 30), dt.datetime(2026, 11, 30, 7, 0)),
                                               (dt.time(3, 0), dt.datetime(2026, 11, 29, 7, 0)),
                                               (dt.time(7, 0), None), (dt.time(12, 0), None)])
def test_quiet_until_is_the_end_of_the_window_now_falls_in(local_time: dt.time, until: dt.datetime | None) -> None:
    now = dt.datetime.combine(dt.date(2026, 11, 29), local_time, tzinfo=SHANGHAI)
    expected = until.replace(tzinfo=SHANGHAI).astimezone(dt.UTC) if until else None
    assert quiet_until((22 * 60, 7 * 60), now, SHANGHAI) == expected
