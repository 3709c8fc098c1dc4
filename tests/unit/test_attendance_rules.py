"""The pure rules of attendance (bot.domain.attendance): the check-in window, the minutes a
check-in → check-out counts, and a typed code read as people type it on a Chinese keyboard; and
the activity's deep link (bot.domain.links)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.attendance import (
    CHECKIN_OPENS_BEFORE,
    as_code,
    checkin_open,
    checkout_moment,
    normalise_code,
    served_minutes,
    window_opens,
)
from bot.domain.links import ACTIVITY, StartTarget, parse_start, start_link

START = dt.datetime(2026, 3, 14, 1, 0, tzinfo=dt.UTC)  # Saturday 9:00 in Shanghai
END = START + dt.timedelta(hours=2)


def full_width(text: str) -> str:
    """``text`` as a Chinese keyboard in full-width mode types it (letters and digits U+FF01…)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


@pytest.mark.parametrize(("now", "expected"), [
    (START - CHECKIN_OPENS_BEFORE - minutes(1), False),  # too early
    (START - CHECKIN_OPENS_BEFORE, True),  # the window opens half an hour before the start
    (START, True),
    (END - minutes(1), True),
    (END, False),  # it closes at the end
    (END + minutes(30), False),
])
def test_the_window_runs_from_before_the_start_to_the_end(now: dt.datetime, expected: bool) -> None:
    assert checkin_open(now, START, END) is expected
    assert window_opens(START) == START - minutes(30)


def test_minutes_are_check_out_minus_check_in_capped_at_the_length_and_never_negative() -> None:
    assert served_minutes(START + minutes(10), START + minutes(95.9), START, END) == 85  # whole minutes
    assert served_minutes(START - minutes(30), END, START, END) == 120  # came early: the activity's length
    assert served_minutes(START, END + minutes(60), START, END) == 120
    assert served_minutes(START + minutes(20), START + minutes(5), START, END) == 0  # clocks out of order
    assert served_minutes(START, START + dt.timedelta(seconds=59), START, END) == 0


def test_a_check_out_after_the_end_counts_at_the_end() -> None:
    assert checkout_moment(END + minutes(40), END) == END
    assert checkout_moment(START + minutes(40), END) == START + minutes(40)


@pytest.mark.parametrize(("typed", "code"), [
    ("K7Q2", "K7Q2"),
    ("k7q2", "K7Q2"),
    (" k7 q2 ", "K7Q2"),
    (full_width("k7q2"), "K7Q2"),  # as a Chinese keyboard types it
    (full_width("K7") + "\u3000" + full_width("Q2"), "K7Q2"),  # with an ideographic space
    ("k7-q2", "K7Q2"),
])
def test_a_typed_code_is_normalised(typed: str, code: str) -> None:
    assert normalise_code(typed) == code
    assert as_code(typed) == code


@pytest.mark.parametrize("text", ["", "ok", "你好", "厨房水管漏水", "please help me with my pipe", "K7Q2!", "x" * 17])
def test_other_text_is_no_code(text: str) -> None:
    assert as_code(text) is None


def test_the_activity_deep_link_carries_the_code() -> None:
    link = start_link("VolunteerLoopBot", ACTIVITY, "K7Q2")
    assert link == "https://t.me/VolunteerLoopBot?start=act_K7Q2"
    assert parse_start(link.split("start=")[1]) == StartTarget(ACTIVITY, "K7Q2")
    assert parse_start("act_k7") is None and parse_start("act_") is None
    with pytest.raises(ValueError, match="start payload"):
        start_link("VolunteerLoopBot", ACTIVITY, "bad code")
