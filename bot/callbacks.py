"""Callback data: short ``prefix:arg:arg`` strings, well under Telegram's 64 bytes, holding ids
only — never personal data. Whatever a button claims is re-checked by the service it reaches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_ARG = re.compile(r"^[A-Za-z0-9_.-]{1,24}$")


@dataclass(frozen=True)
class Button:
    """A parsed tap: ``action`` plus its arguments (strings; services convert and validate)."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        return int(self.args[index])


# Actions: resident dialog, orders, dispatch, volunteers, rating, people, settings.
CATEGORY, WHEN, CONFIRM, EDIT, EDIT_FIELD, ABORT = "cat", "when", "ok", "edit", "ef", "abort"
CANCEL_ORDER, DISPATCH, REJECT, REJECT_REASON = "cx", "d", "rj", "rr"
ACCEPT, ON_WAY, DONE, RELEASE, HOURS, KEEP = "acc", "way", "done", "rel", "h", "keep"
RATE, SKIP_COMMENT = "rate", "skip"
JOIN_TEAM, APPROVE, DENY, LANGUAGE = "jt", "va", "vd", "lang"
# Registration and profile: pick (step, value), done with a step (step), edit a profile field (field).
JOIN_PICK, JOIN_DONE, PROFILE_EDIT = "jp", "jd", "pe"
# Lists: show page (page) of the list message whose outbox row is (row).
PAGE = "pg"
ACTIONS = {
    CATEGORY, WHEN, CONFIRM, EDIT, EDIT_FIELD, ABORT, CANCEL_ORDER, DISPATCH, REJECT, REJECT_REASON,
    ACCEPT, ON_WAY, DONE, RELEASE, HOURS, KEEP, RATE, SKIP_COMMENT, JOIN_TEAM, APPROVE, DENY, LANGUAGE,
    JOIN_PICK, JOIN_DONE, PROFILE_EDIT, PAGE,
}


def pack(action: str, *args: object) -> str:
    """Build callback data; refuses anything that could carry free text or exceed 64 bytes."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    parts = [str(a) for a in args]
    if not all(_ARG.match(p) for p in parts):
        raise ValueError(f"callback arguments must be short ids: {parts!r}")
    data = ":".join([action, *parts])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def unpack(data: str | None) -> Button | None:
    """Parse callback data from a tap; None for anything we did not make."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    action, *args = data.split(":")
    if action not in ACTIONS or not all(_ARG.match(a) for a in args):
        return None
    return Button(action, tuple(args))
