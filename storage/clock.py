"""Injected time: everything that stores or compares a timestamp asks a clock, never the OS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock: an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)
