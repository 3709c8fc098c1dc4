"""The pure parts of /mydata and /forget: the file is described by an id (never the data), which
identifiers are cut out of free text and how, and nothing is ever queued to a forgotten person's
former chat."""

from __future__ import annotations

from bot.domain.attachments import MyData, from_payload, to_payload
from bot.services.privacy import with_phone_forms
from storage.privacy import REDACTED, forgotten_telegram_id, is_forgotten_chat, scrub, usable_needles
from tests.unit.views.test_views import person, views


def test_the_file_travels_as_an_id_and_a_language() -> None:
    payload = to_payload(MyData(7, "en"))
    assert payload == {"kind": "mydata", "user": 7, "language": "en", "field": "document"}
    assert from_payload(payload) == MyData(7, "en")


def test_short_plain_names_are_not_cut_out_of_words_but_short_chinese_ones_are() -> None:
    assert usable_needles(["Al", " Vera ", "王芳", "", "Vera", "+8613912345678"]) == ["+8613912345678", "Vera", "王芳"]
    assert scrub({"text": "Vera: call +8613912345678", "n": 3, "rows": ["王芳 A3"]},
                 ["+8613912345678", "Vera", "王芳"]) == {"text": f"{REDACTED}: call {REDACTED}", "n": 3,
                                                        "rows": [f"{REDACTED} A3"]}


def test_a_phone_is_cut_out_in_the_forms_messages_show_it() -> None:
    assert with_phone_forms(["+8613912345678", "Rita"]) == ["+8613912345678", "139 1234 5678", "13912345678",
                                                           "Rita"]


async def test_a_forgotten_chat_is_no_chat_and_nothing_is_queued_there() -> None:
    gone = forgotten_telegram_id(12)
    assert is_forgotten_chat(gone) and not is_forgotten_chat(-1001234567890) and not is_forgotten_chat(42)
    tell, outbox = views()
    former = person(gone)
    assert tell.out.safe_for(gone, "x") == "x"
    assert await tell(former, "Hello") == 0
    await tell.commands(former, [{"command": "help", "description": "Help"}])
    assert outbox.rows == []
