"""Pure rules of points (docs/points.md): the one-time code a volunteer shows a business, the years
whose points can still be spent, and an amount as people type it.

A code is :data:`LENGTH` characters of :data:`ALPHABET` — digits and capitals without 0/O, 1/I/L,
so it reads aloud and types without doubt (31⁸ ≈ 850 billion: guessing a live one in its few
minutes is hopeless). A year's points can be spent until the end of a configured day of the year
after; so at most two years are live at once, the older spent first.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Callable

from bot.domain.attendance import normalise_code

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
CODE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")
MAX_AMOUNT = 100_000  # one redemption; more is surely a typo
_AMOUNT = re.compile(r"\d{1,6}")


def new_code(choose: Callable[[str], str] = secrets.choice) -> str:
    return "".join(choose(ALPHABET) for _ in range(LENGTH))


def as_code(text: str | None) -> str | None:
    """``text`` as a points code if it can be one (full-width, lower case and spaces forgiven)."""
    code = normalise_code(text or "")
    return code if CODE.fullmatch(code) else None


def live_years(today: dt.date, last_day: Callable[[int], dt.date]) -> list[int]:
    """The years whose points can be spent on ``today``, oldest first (``last_day(year)``: the last
    day a year's points can be spent)."""
    years = [today.year - 1] if today <= last_day(today.year - 1) else []
    return [*years, today.year]


def parse_amount(text: str | None) -> int | None:
    """A typed whole number of points (full-width digits forgiven), 1..:data:`MAX_AMOUNT`; else None."""
    plain = unicodedata.normalize("NFKC", text or "").strip()  # a minus sign stays: "-3" is no amount
    if not _AMOUNT.fullmatch(plain):
        return None
    amount = int(plain)
    return amount if 0 < amount <= MAX_AMOUNT else None


def split(amount: int, available: list[int]) -> list[int]:
    """How much of ``amount`` each live year gives, oldest first (the older lapses sooner)."""
    taken: list[int] = []
    for left in available:
        take = min(max(left, 0), amount - sum(taken))
        taken.append(take)
    return taken
