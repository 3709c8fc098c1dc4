"""The pure rules of team activities (bot.domain.activities): what a creator may answer, the times
fitting together, the check-in code, and who may manage, join or leave an activity."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain import activities as rules
from bot.domain.errors import Conflict, InvalidInput, NotAllowed

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)  # Wednesday 2 December, 10:00 in Shanghai


@pytest.mark.parametrize(("typed", "expected"), [
    ("12-5 9:00", dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)),
    ("12月5日 9点", dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)),
    ("12月5日 9点30分", dt.datetime(2026, 12, 5, 1, 30, tzinfo=dt.UTC)),
    ("12/5 14:30", dt.datetime(2026, 12, 5, 6, 30, tzinfo=dt.UTC)),
    ("１２-５ ９：００", dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)),  # full-width, as a Chinese keyboard types
    ("2027-1-3 8:00", dt.datetime(2027, 1, 3, 0, 0, tzinfo=dt.UTC)),
    ("1-3 8:00", dt.datetime(2027, 1, 3, 0, 0, tzinfo=dt.UTC)),  # January typed in December: next year's
    ("12-2 10:30", dt.datetime(2026, 12, 2, 2, 30, tzinfo=dt.UTC)),  # later today
])
def test_the_start_is_read_as_people_type_it_in_local_time(typed: str, expected: dt.datetime) -> None:
    assert rules.start(typed, NOW, SHANGHAI) == expected


@pytest.mark.parametrize("typed", ["tomorrow", "", "12-5", "13-5 9:00", "2-30 9:00", "12-5 25:00",
                                   "12-2 9:00", "11-20 9:00", "2025-12-5 9:00"])
def test_a_start_that_is_no_time_or_has_passed_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        rules.start(typed, NOW, SHANGHAI)


def test_titles_places_and_things_to_bring_are_tidied_and_limited() -> None:
    assert rules.title("  Repair\n day ") == "Repair day"
    assert rules.title("x" * 128) == "x" * 128
    for bad in ("", "   ", "x" * 129):
        with pytest.raises(InvalidInput) as refused:
            rules.title(bad)
        assert refused.value.params == {"limit": 128}
    assert rules.place("Hall 2") == "Hall 2" and rules.bring("gloves") == "gloves"
    with pytest.raises(InvalidInput):
        rules.place("p" * 257)
    with pytest.raises(InvalidInput):
        rules.bring("b" * 257)


@pytest.mark.parametrize(("typed", "places"), [("1", 1), ("10", 10), (" 500 ", 500), ("３０", 30)])
def test_capacity_is_a_number_from_1_to_500(typed: str, places: int) -> None:
    assert rules.capacity(typed) == places


@pytest.mark.parametrize("typed", ["0", "501", "-3", "ten", "1.5", ""])
def test_other_capacities_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        rules.capacity(typed)


def test_the_times_fit_together() -> None:
    start = NOW + dt.timedelta(days=2)
    rules.times(start, start + dt.timedelta(hours=2), start, NOW)  # sign-up may close at the start
    for ends_at in (start, start - dt.timedelta(minutes=1), start + dt.timedelta(hours=25)):
        with pytest.raises(InvalidInput):
            rules.times(start, ends_at, start, NOW)
    with pytest.raises(InvalidInput):
        rules.times(start, start + dt.timedelta(hours=1), start + dt.timedelta(minutes=1), NOW)
    with pytest.raises(InvalidInput):
        rules.times(NOW, NOW + dt.timedelta(hours=1), NOW, NOW)


def test_the_deadline_is_hours_before_the_start_or_the_start_at_short_notice() -> None:
    start = NOW + dt.timedelta(hours=10)
    assert rules.deadline(start, 3, NOW) == start - dt.timedelta(hours=3)
    assert rules.deadline(start, 0, NOW) == start
    assert rules.deadline(start, 24, NOW) == start  # less than a day away: open until it starts


def test_check_in_codes_use_the_unambiguous_alphabet() -> None:
    codes = {rules.new_code() for _ in range(200)}
    assert len(codes) > 190  # random, so clashes (retried on insert) are rare
    assert all(len(code) == 6 and set(code) <= set(rules.CODE_ALPHABET) for code in codes)
    assert not set("0O1IL2Z5S8B") & set(rules.CODE_ALPHABET)


def test_a_coordinator_manages_any_team_a_leader_only_their_own() -> None:
    assert rules.may_manage(is_coordinator=True, led_team_ids=[], team_id=3)
    assert rules.may_manage(is_coordinator=False, led_team_ids=[3, 4], team_id=3)
    assert not rules.may_manage(is_coordinator=False, led_team_ids=[4], team_id=3)
    with pytest.raises(NotAllowed):
        rules.require_manager(is_coordinator=False, led_team_ids=[], team_id=3)


def test_who_may_join() -> None:
    later = NOW + dt.timedelta(hours=1)
    ok = {"status": rules.OPEN, "deadline_at": later, "now": NOW, "volunteer": True, "skills": {"repair"}}
    rules.require_may_join(**ok, skill=None)
    rules.require_may_join(**ok, skill="repair")
    with pytest.raises(NotAllowed):
        rules.require_may_join(**ok, skill="consulting")
    with pytest.raises(NotAllowed):
        rules.require_may_join(**{**ok, "volunteer": False}, skill=None)
    with pytest.raises(Conflict):
        rules.require_may_join(**{**ok, "status": rules.CANCELLED}, skill=None)
    with pytest.raises(Conflict):
        rules.require_may_join(**{**ok, "now": later}, skill=None)  # the deadline has come


def test_a_volunteer_leaves_until_the_deadline() -> None:
    later = NOW + dt.timedelta(hours=1)
    rules.require_may_withdraw(status=rules.OPEN, deadline_at=later, now=NOW)
    with pytest.raises(Conflict):
        rules.require_may_withdraw(status=rules.OPEN, deadline_at=later, now=later)
    with pytest.raises(Conflict):
        rules.require_may_withdraw(status=rules.CANCELLED, deadline_at=later, now=NOW)
