"""Phone numbers in one form, so that a contact shared from Telegram, a number typed by hand and a
roster cell all match.

Mainland China mobile numbers — 11 digits starting with 1 — are stored in E.164 form,
``+8613800138000``, whether they arrive bare (``138 0013 8000``), with the country code
(``8613800138000``, as some Telegram clients share contacts) or with an international prefix
(``0086 138…``, ``+86 138…``). Any other number keeps its digits as written, with its ``+`` if it
had one: a landline ``010-12345678`` stays ``01012345678``.
"""

from __future__ import annotations

import re

from bot.domain.errors import InvalidInput
from bot.i18n import N_

_PHONE = re.compile(r"^\+?[\d\s()-]{5,24}$")
_MAINLAND_MOBILE = re.compile(r"^1\d{10}$")


def normalise_phone(raw: str) -> str:
    """A phone number in its stored form; :class:`InvalidInput` if it is not one."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if not _PHONE.match(text) or not 5 <= len(digits) <= 16:
        raise InvalidInput(N_("That does not look like a phone number. Please type digits only, e.g. 13800138000."))
    plus = text.startswith("+")
    if not plus and digits.startswith("00"):
        digits, plus = digits[2:], True
    if plus or len(digits) == 13:
        national = digits[2:] if digits.startswith("86") else None
        if national is not None and _MAINLAND_MOBILE.match(national):
            return "+86" + national
    elif _MAINLAND_MOBILE.match(digits):
        return "+86" + digits
    return ("+" if plus else "") + digits


def national_form(phone: str) -> str:
    """A stored number as people in the district write it: mainland mobiles without ``+86``."""
    return phone[3:] if phone.startswith("+86") and _MAINLAND_MOBILE.match(phone[3:]) else phone


def shown_phone(phone: str) -> str:
    """A stored number as people read it on screen: a mainland mobile without ``+86``, in groups
    of 3-4-4 (``138 0013 8000``); any other number as :func:`national_form` gives it."""
    national = national_form(phone)
    return f"{national[:3]} {national[3:7]} {national[7:]}" if _MAINLAND_MOBILE.match(national) else national
