"""Team activities, the pure rules: what a creator's answers may be, the check-in code, and who
may create, change or join one. No I/O: the services read the rows and pass plain values in."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Collection
from zoneinfo import ZoneInfo

from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.i18n import N_

TITLE_MAX, PLACE_MAX, BRING_MAX = 128, 256, 256
CAPACITY_MIN, CAPACITY_MAX = 1, 500
LONGEST = dt.timedelta(hours=24)  # an activity is a day's work at most
ROLL_OVER = dt.timedelta(days=60)  # a day typed without a year this long ago means next year's
# Statuses of an activity and of one person's sign-up (strings in the database).
OPEN, CANCELLED, FINISHED = "open", "cancelled", "finished"
IN, WAITLIST, WITHDRAWN = "in", "waitlist", "cancelled"
# The creation dialog's steps, in order; ``summary`` shows the draft with Publish.
STEPS = ("team", "title", "start", "length", "place", "capacity", "bring", "deadline", "skill", "summary")
# Steps answered by a button (ACT_PICK); ``bring`` and ``skill`` take NONE for "nothing"/"anyone".
PICKED = ("length", "capacity", "bring", "deadline", "skill")
NONE = "none"
# Fields a leader may change afterwards (buttons), and the answers offered as buttons.
CHANGEABLE = ("time", "place", "capacity")
LENGTH_HOURS = ("1", "2", "3", "4", "6")
DEADLINE_HOURS = ("0", "3", "24", "48")  # hours before the start
CAPACITY_CHOICES = ("5", "10", "20", "30")
# The check-in code: no 0/O, 1/I/L, 2/Z, 5/S, 8/B — read aloud and typed by older volunteers.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 6

_DATE_TIME = re.compile(r"^\s*(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"  # [year-]month-day
                        r"\s*[ T,，]?\s*(\d{1,2})\s*[:：点]\s*(\d{2})?\s*分?\s*$")  # hour:minute


def new_code() -> str:
    """A random check-in code (unique in the database: the caller retries on a clash)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def title(text: str) -> str:
    return _text(text, TITLE_MAX, N_("Please type a title of at most {limit} characters."))


def place(text: str) -> str:
    return _text(text, PLACE_MAX, N_("Please type the place in at most {limit} characters."))


def bring(text: str) -> str:
    return _text(text, BRING_MAX, N_("Please type what to bring in at most {limit} characters."))


def _text(text: str, limit: int, message: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > limit:
        raise InvalidInput(message, limit=limit)
    return cleaned


def capacity(text: str) -> int:
    """A number of places, 1 to 500 (full-width digits too)."""
    digits = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not digits.isdigit() or not CAPACITY_MIN <= int(digits) <= CAPACITY_MAX:
        raise InvalidInput(N_("Please type a number of places from {low} to {high}."), low=CAPACITY_MIN,
                           high=CAPACITY_MAX)
    return int(digits)


def start(text: str, now: dt.datetime, timezone: ZoneInfo) -> dt.datetime:
    """When the activity starts, typed as month-day and time (``12-5 9:00``, ``12月5日 9点``, with a
    year if wanted), in the centre's time zone; in UTC, and in the future."""
    match = _DATE_TIME.match(text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    if match is None:
        raise InvalidInput(N_("Please type the day and time like this: 12-5 9:00"))
    year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(timezone)
    try:
        moment = dt.datetime(int(year) if year else local_now.year, int(month), int(day), int(hour),
                             int(minute or 0), tzinfo=timezone)
    except ValueError:
        raise InvalidInput(N_("Please type the day and time like this: 12-5 9:00")) from None
    if not year and moment < local_now - ROLL_OVER:  # "1-10" typed in December means next January
        moment = moment.replace(year=moment.year + 1)
    if moment <= local_now:
        raise InvalidInput(N_("That time has passed; please type a time in the future."))
    return moment.astimezone(dt.UTC)


def times(starts_at: dt.datetime, ends_at: dt.datetime, deadline: dt.datetime, now: dt.datetime) -> None:
    """The times of an activity fit together: it ends after it starts (within a day), sign-up closes
    no later than the start, and the start is still to come."""
    if starts_at <= now:
        raise InvalidInput(N_("That time has passed; please type a time in the future."))
    if not starts_at < ends_at <= starts_at + LONGEST:
        raise InvalidInput(N_("An activity must end after it starts, on the same day or the next."))
    if deadline > starts_at:
        raise InvalidInput(N_("Sign-up must close before the activity starts."))


def deadline(starts_at: dt.datetime, hours_before: int, now: dt.datetime) -> dt.datetime:
    """Sign-up closes ``hours_before`` the start; an activity at shorter notice than that stays open
    for sign-up until it starts (closing it at once would leave nobody able to join)."""
    closes = starts_at - dt.timedelta(hours=hours_before)
    return closes if closes > now else starts_at


def may_manage(*, is_coordinator: bool, led_team_ids: Collection[int], team_id: int) -> bool:
    """A coordinator manages any team's activities; a team leader only their own team's."""
    return is_coordinator or team_id in led_team_ids


def require_manager(*, is_coordinator: bool, led_team_ids: Collection[int], team_id: int) -> None:
    if not may_manage(is_coordinator=is_coordinator, led_team_ids=led_team_ids, team_id=team_id):
        raise NotAllowed(N_("Only a coordinator or the team's leader can do this."))


def require_may_join(*, status: str, deadline_at: dt.datetime, now: dt.datetime, volunteer: bool,
                     skills: Collection[str], skill: str | None) -> None:
    """Who may sign up: an approved volunteer, while the activity is open and before its deadline,
    with the required skill if there is one."""
    if status != OPEN:
        raise Conflict(N_("This activity was cancelled."))
    if now >= deadline_at:
        raise Conflict(N_("Sign-up for this activity has closed."))
    if not volunteer:
        raise NotAllowed(N_("Only volunteers can sign up. Tap Become a volunteer to join a team first."))
    if skill and skill not in skills:
        raise NotAllowed(N_("This activity needs a skill your volunteer profile does not list. Thank you for "
                            "wanting to help; please look out for the next one!"))


def require_may_withdraw(*, status: str, deadline_at: dt.datetime, now: dt.datetime) -> None:
    """A volunteer cancels their own place until the sign-up deadline; after it they tell the leader."""
    if status != OPEN:
        raise Conflict(N_("This activity was cancelled."))
    if now >= deadline_at:
        raise Conflict(N_("Sign-up has closed, so you can no longer cancel here. Please tell the team leader "
                          "you cannot come."))
