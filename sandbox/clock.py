"""The sandbox's notion of time, injectable so message ages and flood windows can be tested."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Returns the current time in seconds since the epoch (like :func:`time.time`)."""

    def __call__(self) -> float: ...


def system_clock() -> float:
    """Wall-clock time; the default."""
    return time.time()
