"""Deep links into the bot (their QR codes are made next to the sender: bot.adapters.attachments).

A team's link ``https://t.me/<bot>?start=team_<code>`` opens registration with the team chosen; a
building's ``…?start=b_<code>`` attributes the person to that building; an activity's
``…?start=act_<CODE>`` (its QR code on site) checks the person in; a volunteer's points code
``…?start=pay_<CODE>``, scanned by a business, opens the redemption. Telegram passes the part
after ``start=`` (1–64 of ``A-Z a-z 0-9 _ -``) to the bot as ``/start <payload>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEAM, BUILDING, ACTIVITY, PAY = "team", "b", "act", "pay"
_CODE = r"[a-z][a-z0-9_]{1,31}"
_ACTIVITY_CODE = r"[A-Z0-9]{3,16}"  # activities.code, upper case (bot.domain.attendance.CODE)
_PAYLOAD = re.compile(rf"^(?:(team|b)_({_CODE})|(act|pay)_({_ACTIVITY_CODE}))$")  # pay: bot.domain.points.CODE


@dataclass(frozen=True)
class StartTarget:
    """What a ``/start`` payload points at: a team, a building or an activity, by code."""

    kind: str
    code: str


def is_code(code: str) -> bool:
    """Team and building codes: 2–32 lowercase letters, digits or ``_``, fit for a join link."""
    return re.fullmatch(_CODE, code) is not None


def start_payload(kind: str, code: str) -> str:
    payload = f"{kind}_{code}"
    if _PAYLOAD.match(payload) is None:
        raise ValueError(f"not a start payload: {payload!r}")
    return payload


def start_link(bot_username: str, kind: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={start_payload(kind, code)}"


def chat_link(bot_username: str) -> str:
    """The bot's private chat (Telegram opens it with a Start button for someone who never used it)."""
    return f"https://t.me/{bot_username}"


def parse_start(payload: str | None) -> StartTarget | None:
    """The target of a ``/start`` payload; None for a bare /start or anything we did not make."""
    match = _PAYLOAD.match(payload or "")
    if match is None:
        return None
    kind, code = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return StartTarget(kind, code)
