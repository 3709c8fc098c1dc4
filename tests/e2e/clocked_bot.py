"""``python -m tests.e2e.clocked_bot START BEGAN -- ARGS…``: the real ``volunteer-loop`` command on a
test timeline — the :class:`~tests.e2e.harness.JumpClock` that started at ``START`` (ISO) when the
system-wide monotonic counter read ``BEGAN``. Every bot process of a test and the test itself then
agree on one time, and none of them reads the time of day."""

from __future__ import annotations

import datetime as dt
import sys

from bot.cli import main
from tests.e2e.harness import JumpClock


def clock_args(clock: JumpClock) -> list[str]:
    """The arguments that put a bot process on ``clock``'s timeline (the offset is not carried)."""
    return [clock.start.isoformat(), repr(clock.began), "--"]


if __name__ == "__main__":
    start, began, separator, *rest = sys.argv[1:]
    assert separator == "--", "usage: python -m tests.e2e.clocked_bot START BEGAN -- ARGS…"
    sys.exit(main(rest, clock=JumpClock(dt.datetime.fromisoformat(start), began=float(began))))
