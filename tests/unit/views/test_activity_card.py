"""An activity's card in a team's group (bot.views.activities): what it shows in Chinese and
English, counts but never who signed up, phone numbers typed into it masked, short callback data
holding only the activity's id, and no buttons once it is cancelled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.i18n import I18n
from bot.views import callbacks as cb
from bot.views.activities import Shown
from bot.views.common import ViewSettings
from bot.views.tell import Tell
from storage.models import Activity, Team
from tests.unit.views.outbox import ListOutbox
from tests.unit.views.test_views import taps

GROUP = -700
I18N = I18n()


def views(language: str) -> tuple[Tell, ListOutbox]:
    """The views of a centre whose groups read ``language``."""
    outbox = ListOutbox()
    return Tell(outbox, I18N, ViewSettings(default_language=language, categories=("repair",))), outbox
STARTS = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)  # Saturday 5 December, 9:00 in Shanghai


def activity(**fields: object) -> Activity:
    values: dict[str, object] = {
        "id": 42, "team_id": 1, "title": "Repair <day>", "place": "Hall 2, call 13812345678", "starts_at": STARTS,
        "ends_at": STARTS + dt.timedelta(hours=2), "capacity": 10, "taken": 10, "bring": "gloves",
        "signup_deadline": STARTS - dt.timedelta(hours=3), "skill": "repair", "status": "open", "code": "ACDE34",
        "cards": {}}
    return Activity(**{**values, **fields})


async def test_the_card_shows_places_and_the_waitlist_and_masks_phones() -> None:
    tell, outbox = views("zh")
    team = Team(id=1, code="repair", name="维修队", chat_id=GROUP)
    row = await tell.activities.post_card(team, Shown(activity(), "维修队", 2, ZoneInfo("Asia/Shanghai")))
    [text] = outbox.texts(GROUP)
    assert text.splitlines() == [
        "📅 <b>Repair &lt;day&gt;</b> · 维修队",
        "🕒 12月5日（周六） 09:00–11:00",
        "📍 Hall 2, call ***",
        "🎒 请带：gloves",
        "🛠 需要会：维修",
        "⏰ 报名截止：12月5日（周六） 06:00",
        "👥 已报名：10/10",
        "⏳ 候补：2人",
    ]
    assert taps(outbox.rows[row - 1].payload["reply_markup"]) == [cb.pack(cb.ACT_SIGN_UP, 42),
                                                                   cb.pack(cb.ACT_WITHDRAW, 42)]


async def test_a_cancelled_card_loses_its_buttons() -> None:
    tell, outbox = views("en")
    team = Team(id=1, code="repair", name="Repair", chat_id=GROUP)
    shown = Shown(activity(status="open"), "Repair", 0, ZoneInfo("Asia/Shanghai"))
    row = await tell.activities.post_card(team, shown)
    cancelled = Shown(activity(status="cancelled", cards={"1": row}), "Repair", 0, ZoneInfo("Asia/Shanghai"))
    await tell.activities.edit_cards(cancelled)
    edit = outbox.rows[-1]
    assert edit.kind == "edit" and edit.target_id == row
    assert str(edit.payload["text"]).splitlines()[-1] == "❌ This activity is cancelled."
    assert "Signed up" not in str(edit.payload["text"])
    assert taps(edit.payload["reply_markup"]) == []
