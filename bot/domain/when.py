"""A request's time as stored: the day (and time) the confirm button or the typed answer gave,
``2026-11-30`` or ``2026-11-30 14:00``, or what the resident typed when it reads as no date.
Read in one place, for the schedule (the appointment) and for the screens (a weekday, never ISO)."""

from __future__ import annotations

import datetime as dt
import re

_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


def parse_when(when_text: str) -> tuple[dt.date, dt.time | None] | None:
    """The day and, when given, the time of ``when_text``; None when it reads as neither."""
    match = _DATE_TIME.match(when_text.strip())
    if match is None:
        return None
    try:
        day = dt.date.fromisoformat(match.group(1))
        return day, dt.time(int(match.group(2)), int(match.group(3))) if match.group(2) else None
    except ValueError:
        return None
