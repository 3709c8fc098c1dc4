"""No code words on screen: every message renders in both languages, and the Chinese one holds no
untranslated English word, category code, ``+86`` or ISO date; the main messages residents and
volunteers get, rendered through the real views with a sample request, hold none either (and the
residents' ones say 求助 and 社区, never 订单 or 小区)."""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

import pytest

from bot.domain import satisfaction
from bot.i18n import LANGUAGES, I18n, Plural, extract_messages
from bot.views.common import CATEGORY_NAMES, STATUS_NAMES, Reader, ViewSettings
from bot.views.lists import Listing
from bot.views.tell import Tell
from storage.models import Order, Team, User
from storage.repositories import Talent
from tests.unit.views.outbox import ListOutbox

I18N = I18n()
EXTRACTED = [m for m in extract_messages() if m.id]
# Plural entries as Plural messages whose number comes in ``_n`` (each is rendered with 1 and with 2).
MESSAGES = sorted([str(m.id) for m in EXTRACTED if not m.pluralizable]
                  + [Plural(str(m.id[0]), str(m.id[1]), "_n") for m in EXTRACTED if m.pluralizable])
CATEGORIES = tuple(CATEGORY_NAMES)
# English that may stand in a Chinese text: what people type after a command (/team add …, /quiet off),
# file kinds, text encodings and Excel, the roster's documentation, the language button's second name, and
# Telegram's own names.
ALLOWED = {"add", "remove", "leader", "unleader", "link", "rename", "categories", "sub", "member", "archive",
           "restore", "off", "csv", "xlsx", "docs", "roster", "USER_ID", "Language",
           "UTF", "GBK", "Excel",
           "Telegram", "webhook",  # names the operator's start-up lines use (docs/startup.md)
           "Ctrl", "English"}  # the demo's stop key and its language button
COMMAND = re.compile(r"/\w+")
MARKUP = re.compile(r"<[^>]+>|&\w+;")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
WORD = re.compile(r"(?<![A-Za-z_])[A-Za-z_]*[A-Za-z]{3,}[A-Za-z_]*")  # USER_ID one word, dh_3 none
STORED_PHONE = "+8613800138000"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def code_words(text: str, *, language: str = "zh") -> list[str]:
    """What a reader of ``language`` should not see in ``text``: raw category codes, ``+86``, ISO
    dates, and in Chinese any English word not allowed."""
    shown = MARKUP.sub(" ", text)
    found = [w for w in re.findall(r"[a-z]+", shown) if w in CATEGORIES]
    found += ["+86"] if "+86" in shown else []
    found += ISO_DATE.findall(shown)
    if language == "zh":
        found += [w for w in WORD.findall(COMMAND.sub(" ", shown)) if w not in ALLOWED]
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_with_no_code_words(language: str) -> None:
    sample = "甲" if language == "zh" else "Li"
    bad = {}
    for message in MESSAGES:
        for number in (1, 2):
            text = I18N.gettext(language, message, **dict.fromkeys(placeholders(message), sample), _n=number)
            assert "{" not in text.replace("{}", ""), message  # every placeholder filled
            if words := code_words(text, language=language):
                bad[message] = words
    assert bad == {}


def resident(language: str) -> User:
    return User(id=1, telegram_id=1, first_name="王奶奶", language=language)


def volunteer(language: str) -> User:
    return User(id=2, telegram_id=2, first_name="小刘", language=language)


def sample_order(**fields: Any) -> Order:
    values: dict[str, Any] = {"id": 12, "category": "housekeeping", "urgent": False, "community": "阳光社区",
                              "when_text": "周六上午", "description": "帮忙买菜", "status": "accepted",
                              "contact_name": "王奶奶", "contact_phone": STORED_PHONE, "building": "3号楼",
                              "address_detail": "402室", "on_behalf": False, "round": 1}
    return Order(**{**values, **fields})


def labels(markup: dict[str, Any] | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard") or (markup or {}).get("keyboard") or []
    return [b["text"] for row in rows for b in row]


async def rendered(language: str) -> tuple[list[str], list[str]]:
    """The texts and button labels residents and volunteers get, through the real views (each
    category and status once)."""
    outbox = ListOutbox()
    settings = ViewSettings(default_language=language, categories=CATEGORIES)
    tell = Tell(outbox, I18N, settings)
    person, helper = resident(language), volunteer(language)
    orders = [sample_order(id=n, category=c, status=s)
              for n, (c, s) in enumerate(zip(CATEGORIES * 2, list(STATUS_NAMES) * 2, strict=False), start=1)]
    await tell.resident.my_orders(person, orders)
    order = sample_order()
    await tell.resident.ask_rating(person, order, helper.first_name)
    await tell.resident.ask_rating(person, sample_order(on_behalf=True), helper.first_name, reminder=True)
    await tell.resident.ask_comment(person, order)
    for stars in (*satisfaction.CHOICES, 1, 3):  # 1 and 3: star buttons of earlier releases
        await tell.volunteer.rated(helper, order.id, stars)
    await tell.volunteer.details(helper, order)
    for when in ("2026-12-05", "2026-12-05 14:30"):  # a day the confirm button gave, an emergency's moment
        await tell.volunteer.details(helper, sample_order(when_text=when))
        await tell.card.post(sample_order(when_text=when), Team(id=2, name="应急队", chat_id=-200))
    await tell.volunteer.lease_question(helper, order, 30)
    await tell.volunteer.ask_hours(helper, order)
    found = [Talent(name="小刘", team="维修队", community="阳光社区", phone=STORED_PHONE, on_duty=True)]
    await tell.lists.talent(Listing(helper.telegram_id), helper, "repair", None, found)
    await tell.joining.profile(helper, {"name": "小刘", "phone": STORED_PHONE, "skills": ["repair"],
                                        "kind": "resident"}, [])
    await tell.digests.daily([Reader(helper.telegram_id, helper)], dt.date(2026, 12, 5), [], [])
    await tell.digests.monthly_to_leader(helper, dt.date(2026, 11, 1), ("维修队", 3, 2, 4.5, 1))
    team = Team(id=1, name="维修队", chat_id=-100)
    for category in CATEGORIES:
        await tell.card.post(sample_order(category=category), team)
    texts = [str(row.payload.get("text", "")) for row in outbox.rows]
    texts.append(tell.moment(helper, dt.datetime(2026, 12, 5, 9, 30)))
    buttons = [label for row in outbox.rows for label in labels(row.payload.get("reply_markup"))]
    return texts, buttons


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_main_messages_show_no_codes(language: str) -> None:
    texts, buttons = await rendered(language)
    assert [(t, w) for t in texts + buttons if (w := code_words(t, language=language))] == []
    assert not [t for t in texts if "+86" in t or "13800138000" in t]  # shown as 138 0013 8000
    assert any("138 0013 8000" in t for t in texts)


async def test_residents_read_help_and_community_not_orders() -> None:
    texts, buttons = await rendered("zh")
    resident_side = texts[:5] + buttons  # my requests, the rating questions, the comment question
    assert [t for t in resident_side if "订单" in t or "小区" in t or "★" in t] == []
    assert "周六上午 9:30" in texts
    assert [b for b in buttons if b[0] in "😊🙂😞❌"][:4] == ["😊满意", "🙂基本满意", "😞不满意", "❌问题没解决"]
