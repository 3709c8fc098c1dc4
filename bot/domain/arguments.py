"""Strict readers for what people send us as ids and codes — in callback data and in command
arguments alike — so a forged or mistyped value is refused here, as "not one of ours", instead of
overflowing a database column or reaching a service as something it is not.

Each :class:`Part` turns one piece of text into a typed value, or None. Numbers are ASCII digits
only (no sign, no leading zero, no other script's digits) and bounded before they are converted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DATABASE_ID_MAX = 2**31 - 1  # our primary keys are 32-bit INTEGER columns (PostgreSQL's limit)
TELEGRAM_ID_MAX = 2**63 - 1  # Telegram user ids are stored as BIGINT
_DIGITS = re.compile(r"[1-9][0-9]*|0")
_TOKEN = re.compile(r"[A-Za-z0-9_]{1,32}")

Value = int | str


class Part:
    """One piece of an id-only message: ``read`` gives its typed value or None."""

    def read(self, text: str) -> Value | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Number(Part):
    """A whole number in ``low..high``."""

    low: int
    high: int

    def read(self, text: str) -> int | None:
        if len(text) > len(str(self.high)) or _DIGITS.fullmatch(text) is None:
            return None
        value = int(text)
        return value if self.low <= value <= self.high else None


@dataclass(frozen=True)
class OneOf(Part):
    """One of a fixed set of codes."""

    codes: frozenset[str]

    @classmethod
    def of(cls, codes: Iterable[str]) -> OneOf:
        return cls(frozenset(codes))

    def read(self, text: str) -> str | None:
        return text if text in self.codes else None


@dataclass(frozen=True)
class Token(Part):
    """A short code whose set lives in the configuration (a category): the service checks it."""

    def read(self, text: str) -> str | None:
        return text if _TOKEN.fullmatch(text) else None


DATABASE_ID = Number(1, DATABASE_ID_MAX)
TELEGRAM_ID = Number(1, TELEGRAM_ID_MAX)
TOKEN = Token()


def database_id(text: str) -> int | None:
    """An order, team, volunteer or building number as typed (``12`` or ``#12``), or None."""
    value = DATABASE_ID.read(text[1:] if text.startswith("#") else text)
    return value if isinstance(value, int) else None


def telegram_id(text: str) -> int | None:
    """A Telegram user id as typed, or None."""
    value = TELEGRAM_ID.read(text)
    return value if isinstance(value, int) else None
