"""What every view shares: the names of statuses and categories, the menu's labels, keyboard
helpers, who reads (:class:`Reader`), the settings views need (:class:`ViewSettings`, plain values)
and :class:`View`, the base of every audience's view (a port to queue on, a language per reader).

Texts are sent with ``parse_mode=HTML``; every value a person typed is escaped by :mod:`bot.i18n`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain import satisfaction
from bot.domain.lifecycle import OrderStatus
from bot.domain.profile import LIST_SEPARATOR
from bot.domain.when import parse_when
from bot.i18n import N_, I18n, Translate
from bot.views import callbacks as cb
from bot.views.port import Markup, Outgoing
from storage.models import User

STATUS_NAMES: dict[str, str] = {
    OrderStatus.NEW: N_("waiting for dispatch"),
    OrderStatus.DISPATCHED: N_("waiting for a volunteer"),
    OrderStatus.ACCEPTED: N_("volunteer assigned"),
    OrderStatus.ON_WAY: N_("volunteer on the way"),
    OrderStatus.DONE: N_("done, waiting for your rating"),
    OrderStatus.CLOSED: N_("closed"),
    OrderStatus.CANCELLED: N_("cancelled"),
    OrderStatus.REJECTED: N_("rejected"),
}
CATEGORY_NAMES = {
    "delivery": N_("Delivery"), "housekeeping": N_("Housekeeping"), "consulting": N_("Consulting"),
    "repair": N_("Repair"), "training": N_("Training"), "mediation": N_("Mediation"),
    "emergency": N_("Emergency"), "other": N_("Other"),
}
# Other words people type for a skill, in either language, beside its code and its names above.
SKILL_SYNONYMS = {
    "修理": "repair", "修": "repair", "维修": "repair", "fix": "repair", "repairs": "repair",
    "配送": "delivery", "送货": "delivery", "代购": "delivery", "跑腿": "delivery", "shopping": "delivery",
    "家政": "housekeeping", "保洁": "housekeeping", "照料": "housekeeping", "cleaning": "housekeeping",
    "咨询": "consulting", "advice": "consulting", "培训": "training", "调解": "mediation",
    "紧急": "emergency", "应急": "emergency", "急救": "emergency", "urgent": "emergency", "其它": "other",
}


def _bare(text: str) -> str:
    """What matching a typed skill looks at: letters and digits, case ignored (not 🚨 or spaces)."""
    return "".join(c for c in text if c.isalnum()).casefold()


def skill_code(i18n: I18n, typed: str, known: Iterable[str]) -> str | None:
    """The skill a person typed — its code, its name in Chinese or English, or a common synonym —
    among ``known`` codes; None when it is none of them."""
    key, known = _bare(typed), tuple(known)
    if not key:
        return None
    for code in known:
        names = i18n.all_translations(CATEGORY_NAMES[code]) if code in CATEGORY_NAMES else set()
        if key in {_bare(name) for name in (code, *names)}:
            return code
    synonym = SKILL_SYNONYMS.get(key)
    return synonym if synonym in known else None


# The answers to "how did it go?" (bot.domain.satisfaction), as buttons and wherever a rating is shown.
SATISFACTION_NAMES = {
    satisfaction.SATISFIED: N_("😊 Satisfied"), satisfaction.MOSTLY: N_("🙂 Mostly satisfied"),
    satisfaction.NOT_SATISFIED: N_("😞 Not satisfied"), satisfaction.NOT_SOLVED: N_("❌ Problem not solved"),
}
MENU_NEW_REQUEST = N_("🆘 New request")
MENU_MY_ORDERS = N_("📋 My requests")
MENU_LANGUAGE = N_("🌐 Language")
SHARE_PHONE = N_("📱 Share my phone number")
# Said when an update of a person's was parked (a fault of ours); short enough for a tap's alert.
COULD_NOT_HANDLE = N_("Sorry, something went wrong on our side. What you sent is kept for "
                      "our team to look into; please try again a little later.")

# A moment as people say it (周六上午 9:00 / Sat morning 9:00), not as an ISO date.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
DAY_PARTS = ((5, N_("morning")), (12, N_("noon")), (14, N_("afternoon")),
             (18, N_("evening")))  # from that hour on; before 5: still "evening"
MOMENT = N_("{weekday} {part} {time}")


def day_label(_: Translate, day: dt.date) -> str:
    """A date as people write it (12月2日（周三） / Wed, 12/2), not ISO."""
    return _("{weekday}, {month}/{day}", weekday=_(WEEKDAYS[day.weekday()]), month=day.month, day=day.day)


def when_label(_: Translate, when_text: str) -> str:
    """A request's time as people say it (周四, 12月3日 14:00), or the resident's own words."""
    parsed = parse_when(when_text)
    if parsed is None:
        return when_text
    day, time = parsed
    return day_label(_, day) + (f" {time.hour}:{time.minute:02d}" if time else "")


def month_label(_: Translate, first: dt.date) -> str:
    """A month (2026年11月 / 11/2026)."""
    return _("{month}/{year}", month=first.month, year=first.year)

Keyboard = list[list[dict[str, Any]]]


def button(text: str, action: str, *args: object) -> dict[str, Any]:
    return {"text": text, "callback_data": cb.pack(action, *args)}


def inline(rows: Keyboard) -> Markup:
    return {"inline_keyboard": rows}


def in_rows(buttons: Sequence[dict[str, Any]], per_row: int) -> Keyboard:
    return [list(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]


@dataclass(frozen=True)
class Reader:
    """Someone told something in ``chat_id``: a person (``user``, read in their language) or a
    group (``user`` None, read in the default language)."""

    chat_id: int
    user: User | None = None


@dataclass(frozen=True)
class ViewSettings:
    """The settings views need, as plain values."""

    default_language: str = "zh"
    coordinators_chat_id: int | None = None  # the centre's group; never masked (see Outgoing.safe_for)
    categories: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()


class View:
    """An audience's view: renders in each reader's language and queues on :class:`Outgoing`."""

    def __init__(self, out: Outgoing, i18n: I18n, settings: ViewSettings) -> None:
        self.out = out
        self.i18n = i18n
        self.settings = settings

    def tr(self, user: User | None) -> Translate:
        return self.i18n.translator(user.language if user else self.settings.default_language)

    def group_tr(self) -> Translate:
        return self.i18n.translator(self.settings.default_language)

    def reading(self, reader: Reader) -> Translate:
        return self.tr(reader.user) if reader.user else self.group_tr()

    def category_label(self, user: User | None, category: str) -> str:
        return self.tr(user)(CATEGORY_NAMES.get(category, category))

    def skill_names(self, user: User | None, codes: Iterable[str]) -> str:
        """Skills by their names in ``user``'s language (what /find and the roster accept)."""
        _ = self.tr(user)
        return _(LIST_SEPARATOR).join(self.category_label(user, code) for code in codes)

    def skill_of(self, typed: str, known: Iterable[str]) -> str | None:
        """See :func:`skill_code`."""
        return skill_code(self.i18n, typed, known)

    def moment(self, user: User | None, local: dt.datetime) -> str:
        """``local`` (in the service's time zone) as a weekday, a part of the day and the time."""
        _ = self.tr(user)
        part = next((name for start, name in reversed(DAY_PARTS) if local.hour >= start), DAY_PARTS[-1][1])
        return _(MOMENT, weekday=_(WEEKDAYS[local.weekday()]), part=_(part), time=f"{local.hour}:{local.minute:02d}")

    def verdict(self, user: User | None, stars: int | None) -> str:
        """A rating in words (old star ratings read as the nearest word)."""
        return self.tr(user)(SATISFACTION_NAMES[satisfaction.level(stars)])

    async def tell(self, user: User, message: str, *, markup: Markup | None = None,
                   protect: bool = False, **params: object) -> int:
        """Queue ``message`` (a msgid) to a person's private chat, in their language; returns the
        outbox row id."""
        return await self.out.send(user.telegram_id, self.tr(user)(message, **params), recipient=user,
                                   markup=markup, protect=protect)

    def share_phone_keyboard(self, user: User) -> Markup:
        """A one-time reply keyboard whose button shares the person's own phone number."""
        return {"keyboard": [[{"text": self.tr(user)(SHARE_PHONE), "request_contact": True}]],
                "resize_keyboard": True, "one_time_keyboard": True}
