"""A tap is answered at most once: the first claim wins, every later one (a copy of the update, the
parked update's apology) is refused, and the memory stays bounded."""

from __future__ import annotations

from bot.adapters.taps import AnsweredTaps


def test_a_query_is_claimed_once_and_the_oldest_are_forgotten() -> None:
    taps = AnsweredTaps(limit=3)
    assert [taps.claim(q) for q in ("a", "b", "a", "c", "b")] == [True, True, False, True, False]
    assert taps.claim("d") and taps.claim("a")  # "a", the oldest of four, was forgotten
    assert not taps.claim("d")
