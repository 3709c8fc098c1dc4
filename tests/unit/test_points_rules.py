"""The pure rules of points: codes people can read aloud and type, the live years and their
expiry, typed amounts, spending the older year first; and the QR code's deep link."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bot.domain import points
from bot.domain.links import PAY, StartTarget, parse_start, start_link
from bot.services.context import PointsConfig
from tests.unit.test_attendance_rules import full_width


def test_a_code_is_eight_unambiguous_characters() -> None:
    code = points.new_code()
    assert len(code) == 8 and set(code) <= set(points.ALPHABET)
    assert not set("01ILO") & set(points.ALPHABET)
    cycle = itertools.cycle("AB")
    assert points.new_code(lambda _alphabet: next(cycle)) == "ABABABAB"


@pytest.mark.parametrize(("typed", "code"), [("k7m2 p9qx", "K7M2P9QX"), (full_width("k7m2-p9qx"), "K7M2P9QX"),
                                             ("K7M2P9Q", None), ("K7M2P9Q0", None), ("hello world", None),
                                             (None, None)])
def test_typed_codes(typed: str | None, code: str | None) -> None:
    assert points.as_code(typed) == code


def test_a_years_points_live_until_the_configured_day_of_the_next() -> None:
    config = PointsConfig(expires_on="03-31")
    assert config.expiry(2025) == dt.date(2026, 3, 31)
    assert points.live_years(dt.date(2026, 3, 31), config.expiry) == [2025, 2026]
    assert points.live_years(dt.date(2026, 4, 1), config.expiry) == [2026]
    assert points.live_years(dt.date(2026, 1, 1), PointsConfig(expires_on="12-31").expiry) == [2025, 2026]


@pytest.mark.parametrize(("typed", "amount"), [("20", 20), (full_width("20"), 20), (" 5 ", 5), ("0", None),
                                               ("-3", None), ("1.5", None), ("100001", None), ("", None),
                                               ("twenty", None)])
def test_typed_amounts(typed: str, amount: int | None) -> None:
    assert points.parse_amount(typed) == amount


def test_the_older_year_is_spent_first() -> None:
    assert points.split(15, [10, 20]) == [10, 5]
    assert points.split(5, [10, 20]) == [5, 0]
    assert points.split(40, [10, 20]) == [10, 20]  # short: the caller refuses
    assert points.split(3, [0, 20]) == [0, 3]


def test_the_qr_codes_deep_link() -> None:
    link = start_link("vloop_bot", PAY, "K7M2P9QX")
    assert link == "https://t.me/vloop_bot?start=pay_K7M2P9QX"
    assert parse_start("pay_K7M2P9QX") == StartTarget(PAY, "K7M2P9QX")
    assert parse_start("pay_k7m2") is None
