"""Clocks for tests that need time to flow (senders pace themselves, bots sweep) without ever
reading the time of day: they start at a fixed instant and count only elapsed time."""

from __future__ import annotations

import datetime as dt
import time

__all__ = ["FIXED_START", "JumpClock"]

# Every end-to-end bot starts at this instant, whatever the hour of the machine running the tests:
# 09:00 in Shanghai on a Tuesday, outside the default quiet hours (tests never read the wall clock).
FIXED_START = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)


class JumpClock:
    """A clock that starts at a fixed instant and then flows (the outbox paces itself by it); a test
    skips hours with :meth:`advance`, as if the bot had been waiting that long. Only the elapsed
    time comes from the machine (a monotonic counter), never the time of day."""

    def __init__(self, start: dt.datetime = FIXED_START, *, began: float | None = None) -> None:
        self.start = start
        # CLOCK_MONOTONIC is one counter for the whole machine, so bot processes given ``began``
        # share this clock's timeline (tests/e2e/clocked_bot.py).
        self.began = time.monotonic() if began is None else began
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.began) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)
