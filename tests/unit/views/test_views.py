"""Views rendered with no I/O: each audience's view queues into an outbox kept in a list, and the
texts and keyboards are read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain.redact import MASK
from bot.i18n import I18n
from bot.views import callbacks as cb
from bot.views.common import Reader, ViewSettings
from bot.views.lists import PAGE_LIMIT, Listing
from bot.views.tell import Tell
from storage.models import Order, Team, User
from tests.unit.views.outbox import ListOutbox

I18N = I18n()
CENTRE_GROUP = -100_000_000_001
TEAM_GROUP = -100_000_000_002
SETTINGS = ViewSettings(default_language="en", coordinators_chat_id=CENTRE_GROUP, categories=("repair", "delivery"))
PHONE = "13812345678"


def views() -> tuple[Tell, ListOutbox]:
    outbox = ListOutbox()
    return Tell(outbox, I18N, SETTINGS), outbox


def person(telegram_id: int, name: str = "Li", language: str = "en") -> User:
    return User(id=telegram_id, telegram_id=telegram_id, first_name=name, language=language)


def order(**fields: Any) -> Order:
    values: dict[str, Any] = {"id": 7, "category": "repair", "urgent": False, "community": "Sunny Garden",
                              "when_text": "today 15:00", "description": "the kitchen tap leaks",
                              "status": "dispatched", "contact_name": "Wang", "contact_phone": PHONE,
                              "building": "3", "address_detail": "502", "on_behalf": False}
    return Order(**{**values, **fields})


def taps(markup: dict[str, Any] | None) -> list[str]:
    """The callback data of an inline keyboard, row by row."""
    return [b["callback_data"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


async def test_a_team_card_never_holds_a_phone_number_even_in_a_name() -> None:
    tell, outbox = views()
    card = order(description=f"call {PHONE}")
    card.card_outbox_id = await tell.card.post(card, Team(id=1, name="Fixers", chat_id=TEAM_GROUP))
    await tell.card.edit(card, f"Status: ✅ taken by Zhang {PHONE}")
    posted, edited = outbox.rows
    assert posted.chat_id == edited.chat_id == TEAM_GROUP and edited.target_id == posted.id
    for row in outbox.rows:
        assert PHONE not in row.payload["text"] and MASK in row.payload["text"]
    assert edited.payload["text"].startswith("<b>#7 Repair</b>\n📍 Sunny Garden\n🕒 today 15:00\n📝 call ***")
    assert taps(posted.payload["reply_markup"]) == [cb.pack(cb.ACCEPT, 7)]
    assert edited.payload["reply_markup"] == {"inline_keyboard": []}


async def test_the_centre_reads_its_group_unmasked_and_each_person_in_their_language() -> None:
    tell, outbox = views()
    coordinator = person(11, language="zh")
    readers = [Reader(CENTRE_GROUP), Reader(coordinator.telegram_id, coordinator)]
    await tell.centre.message(readers, "Request #{number} rejected by {coordinator}.", number=7,
                              coordinator=f"Zhang {PHONE}")
    group, private = outbox.rows
    assert group.payload["text"] == f"Request #7 rejected by Zhang {PHONE}."  # the centre reads registry numbers
    assert group.recipient_user_id is None
    assert private.recipient_user_id == coordinator.id
    assert private.payload["text"] == I18N.gettext("zh", "Request #{number} rejected by {coordinator}.", number=7,
                                                   coordinator=f"Zhang {PHONE}")


async def test_a_new_request_to_the_centre_has_a_button_per_team_and_reject() -> None:
    tell, outbox = views()
    teams = [Team(id=3, name="Fixers"), Team(id=4, name="Helpers")]
    rows = await tell.centre.new_order([Reader(CENTRE_GROUP)], order(urgent=True), teams)
    (card,) = outbox.rows
    assert rows == [card.id]
    assert card.payload["text"] == ("🆕 New request #7\nRepair · URGENT · Sunny Garden · today 15:00\n"
                                    "📝 the kitchen tap leaks")
    assert taps(card.payload["reply_markup"]) == [cb.pack(cb.DISPATCH, 7, 3), cb.pack(cb.DISPATCH, 7, 4),
                                                  cb.pack(cb.REJECT, 7), cb.pack(cb.HISTORY, 7)]
    await tell.centre.cards_with_team(rows, order(), teams[0], [], taken_by="Zhang")
    edit = outbox.rows[-1]
    assert edit.target_id == card.id
    assert edit.payload["text"] == card.payload["text"] + "\n➡️ Sent to team Fixers.\nStatus: ✅ taken by Zhang"
    assert edit.payload["reply_markup"] == {"inline_keyboard": []}


def test_a_reject_reason_is_a_button_label_or_the_typed_text() -> None:
    tell, _outbox = views()
    assert tell.centre.reject_reason(person(21), "area") == "Outside this community's service area"
    chinese = I18N.gettext("zh", "Outside this community's service area")
    assert tell.centre.reject_reason(person(22, language="zh"), "area") == chinese
    assert tell.centre.reject_reason(person(21), "we are closed on Sundays") == "we are closed on Sundays"


async def test_a_join_application_shows_the_phone_only_privately() -> None:
    tell, outbox = views()
    admin = person(12)
    profile = {"name": "Zhang", "phone": PHONE, "skills": ["repair"], "kind": "resident"}
    await tell.centre.join_application([Reader(CENTRE_GROUP), Reader(admin.telegram_id, admin)], 5, profile,
                                       Team(id=3, name="Fixers"), approved=False)
    group, private = outbox.rows
    assert PHONE not in group.payload["text"] and "Skills: Repair" in group.payload["text"]
    assert "Phone: 138 1234 5678" in private.payload["text"]  # shown without +86, grouped
    assert taps(private.payload["reply_markup"]) == [cb.pack(cb.APPROVE, 5), cb.pack(cb.DENY, 5)]


async def test_a_resident_hears_each_step_of_their_request_privately() -> None:
    tell, outbox = views()
    resident = person(21)
    await tell.resident.status(resident, order(), "{volunteer} is on the way for request #{number}.",
                               volunteer="Zhang")
    (row,) = outbox.rows
    assert (row.chat_id, row.recipient_user_id) == (21, resident.id)
    assert row.payload == {"method": "sendMessage", "text": "Zhang is on the way for request #7.", "parse_mode": "HTML"}


async def test_my_requests_offer_cancel_only_while_a_request_is_open() -> None:
    tell, outbox = views()
    await tell.resident.my_orders(person(21), [order(id=1, status="accepted"), order(id=2, status="closed")])
    (row,) = outbox.rows
    assert row.payload["text"] == "Your requests:\n#1 Repair — volunteer assigned\n#2 Repair — closed"
    assert taps(row.payload["reply_markup"]) == [cb.pack(cb.CANCEL_ORDER, 1)]


async def test_a_volunteer_gets_the_details_protected_and_the_voice_note_after_them() -> None:
    tell, outbox = views()
    volunteer = person(31)
    await tell.volunteer.details(volunteer, order(description=None, voice_file_id="voice-1"))
    details, voice = outbox.rows
    assert details.payload["protect_content"] is True and "📞 138 1234 5678" in details.payload["text"]
    assert taps(details.payload["reply_markup"]) == [cb.pack(cb.ON_WAY, 7), cb.pack(cb.DONE, 7),
                                                     cb.pack(cb.RELEASE, 7)]
    assert voice.payload == {"method": "sendVoice", "voice": "voice-1", "protect_content": True}
    assert taps(tell.volunteer.keyboard(volunteer, order(status="on_way"))) == [cb.pack(cb.DONE, 7),
                                                                                 cb.pack(cb.RELEASE, 7)]


async def test_a_long_list_is_paged_with_buttons_that_name_its_own_row() -> None:
    tell, outbox = views()
    reader = person(41)
    lines = [f"line {i:03d} " + "x" * 60 for i in range(200)]
    await tell.lists.send(Listing(reader.telegram_id), reader, "Title:", lines, query={"kind": "teams"})
    (row,) = outbox.rows
    text = row.payload["text"]
    assert len(text) <= PAGE_LIMIT and text.startswith("Title:\nline 000") and "Page 1 of " in text
    assert row.payload["list"] == {"kind": "teams"} and row.recipient_user_id == reader.id
    assert taps(row.payload["reply_markup"]) == [cb.pack(cb.PAGE, row.id, 1)]
    await tell.lists.send(Listing(reader.telegram_id, page=1, row=row.id), reader, "Title:", lines,
                          query={"kind": "teams"})
    turned = outbox.rows[-1]
    assert turned.target_id == row.id and "Page 2 of " in turned.payload["text"]
    assert taps(turned.payload["reply_markup"])[0] == cb.pack(cb.PAGE, row.id, 0)


async def test_a_short_list_has_no_page_buttons() -> None:
    tell, outbox = views()
    reader = person(41)
    await tell.lists.send(Listing(reader.telegram_id), reader, "Title:", ["one", "two"], query={"kind": "teams"})
    (row,) = outbox.rows
    assert row.payload["text"] == "Title:\none\ntwo" and "reply_markup" not in row.payload


async def test_the_daily_digest_groups_requests_by_team_for_each_reader() -> None:
    tell, outbox = views()
    waiting = [("Fixers", [(order(id=1, urgent=True), 45)]), (None, [(order(id=2, community=f"tel {PHONE}"), 200)])]
    await tell.digests.daily([Reader(CENTRE_GROUP)], dt.date(2026, 12, 1), waiting, [])
    (row,) = outbox.rows
    assert row.payload["text"] == ("<b>📋 Digest Tue, 12/1</b>\n⏳ Not taken in time: 2\n<b>Fixers</b> · 1\n"
                                   "🚨 #1 Repair · Sunny Garden · waiting 45 min\n<b>Not dispatched yet</b> · 1\n"
                                   "#2 Repair · tel *** · waiting 3 h")
    await tell.digests.daily([Reader(CENTRE_GROUP)], dt.date(2026, 12, 2), [], [])
    assert outbox.rows[-1].payload["text"] == ("📋 Digest Wed, 12/2: all clear — no request waits too long or is "
                                               "past its time.")


async def test_the_weekly_digest_in_a_team_group_holds_no_description() -> None:
    tell, outbox = views()
    await tell.digests.weekly(Team(id=1, name="Fixers", chat_id=TEAM_GROUP), [order(when_text=f"call {PHONE}")])
    (row,) = outbox.rows
    assert row.chat_id == TEAM_GROUP and "leaks" not in row.payload["text"] and PHONE not in row.payload["text"]
