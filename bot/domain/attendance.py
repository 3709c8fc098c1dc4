"""Pure rules of attendance at a team's activity: when the check-in is open, how many minutes a
check-in → check-out counts, and reading a check-in code as elderly people type it.

The window opens :data:`CHECKIN_OPENS_BEFORE` before the start (people arrive early to set up) and
closes at the end; a check-out after the end counts as at the end. Minutes are whole minutes of
check-out − check-in, never negative, never more than the activity lasts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

CHECKIN_OPENS_BEFORE = dt.timedelta(minutes=30)
# What a check-in code may look like once normalised (activities.code: at most 16 characters).
CODE = re.compile(r"[A-Z0-9]{3,16}")
# Spaces (ASCII and the ideographic space) and dashes people put between a code's characters.
_SEPARATORS = re.compile(r"[\s\-_·]+")


def window_opens(starts_at: dt.datetime) -> dt.datetime:
    return starts_at - CHECKIN_OPENS_BEFORE


def checkin_open(now: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """Whether ``now`` is within the check-in window: from before the start until the end."""
    return window_opens(starts_at) <= now < ends_at


def checkout_moment(now: dt.datetime, ends_at: dt.datetime) -> dt.datetime:
    """When a check-out at ``now`` counts: at the latest, the activity's end."""
    return min(now, ends_at)


def served_minutes(checked_in: dt.datetime, checked_out: dt.datetime, starts_at: dt.datetime,
                   ends_at: dt.datetime) -> int:
    """Whole minutes from check-in to check-out, capped at the activity's length, never negative."""
    served = min(checked_out - checked_in, ends_at - starts_at)
    return max(0, int(served.total_seconds() // 60))


def normalise_code(text: str) -> str:
    """A typed code as stored: full-width letters and digits (Chinese keyboards) made plain (NFKC),
    separators dropped, upper case: a full-width, lower-case "ab12 3" becomes ``AB123``."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def as_code(text: str | None) -> str | None:
    """``text`` as a check-in code if it can be one (so other typed text costs no lookup), else None."""
    code = normalise_code(text or "")
    return code if CODE.fullmatch(code) else None
