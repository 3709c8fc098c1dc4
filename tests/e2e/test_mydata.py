"""/mydata and /forget end to end, in Chinese and in English, through the sandbox.

A resident with distinctive name, phone and door number places a request that a volunteer accepts;
then, by the buttons behind More, the resident asks for their data (a summary and a JSON file,
downloaded and read: their profile and their request with its contact) and erases it (❌ first:
nothing changes; then ✅). Their open request is cancelled and the volunteer told. Afterwards
none of their identifiers is in any column of any table of the database, in any log record (every
logger at DEBUG) emitted from the ✅ on, or in any Bot API call the bot made after it; and writing
again, they are a new, empty person."""

from __future__ import annotations

import json
import logging

import pytest

from sandbox import SandboxClient, SandboxServer
from storage.db import create_engine
from tests.e2e.harness import (
    Cast,
    bot_running,
    download,
    latest_document,
    make_settings,
    next_of,
    outbox_drained,
    set_up_centre,
    tr,
    wait_text,
)
from tests.e2e.harness import cast_of as harness_cast_of
from tests.e2e.harness import place_order as harness_place_order
from tests.e2e.test_privacy import LOGGERS, log_text, normalised
from tests.support.dbfixtures import in_both_languages
from tests.support.privacy_scan import stored_mentions

NAME = "Xiomaraqjw"  # the resident's Telegram first name, and the name on the request
PHONE = "+8619912348765"
DETAIL = "WQ6617室"
PLACED = {"zh": "您发起的求助：{}次", "en": "Requests you placed: {}"}  # a line of the summary
ABOUT_START = {"zh": "截至", "en": "Everything Volunteer Loop stores about you"}
NEEDLES = {"name": NAME, "phone": "19912348765", "detail": "WQ6617"}


async def stored(database_url: str) -> list[tuple[str, str, str]]:
    """Where the database holds the resident's identifiers (every column of every table)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await stored_mentions(connection, NEEDLES.values())
    finally:
        await engine.dispose()


def found_in(text: str) -> list[str]:
    return [key for key, needle in NEEDLES.items() if needle.lower() in text.lower()]


@in_both_languages  # zh on SQLite, en on PostgreSQL when configured
async def test_mydata_then_forget_leaves_nothing_behind(server: SandboxServer, sandbox: SandboxClient,
                                                        database_url: str, language: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    _ = tr(language)
    cast = await harness_cast_of(sandbox, language, resident_name=NAME, phone=PHONE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, "polling") as application:
        await set_up_centre(Cast(**{**vars(cast), "volunteers": cast.volunteers[:1]}), language)
        vera, resident = cast.volunteers[0], cast.resident
        number = await harness_place_order(cast, language, detail=DETAIL)
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(vera, f"#{number}", chat_id=cast.team_group.id)
        await vera.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        await wait_text(vera, DETAIL)

        # /mydata by its button: the summary, then the file, read as the resident would.
        await resident.skip_to_now()
        await resident.press(_("⋯ More"))
        more = await next_of(resident, _("🔒 My data"))
        await resident.tap(_("🔒 My data"), message_id=more.message_id)
        summary = await wait_text(resident, PLACED[language].format(1))
        assert NAME in (summary.text or "") and DETAIL in (summary.text or "") and summary.protect_content
        document = await latest_document(resident)
        held = json.loads(await download(server, document, "document"))
        assert held["about"].startswith(ABOUT_START[language])
        assert held["profile"]["first_name"] == NAME and held["profile"]["home_phone"] == PHONE
        [order] = held["orders_placed"]
        assert (order["id"], order["contact_phone"], order["address_detail"], order["status"]) == (
            number, PHONE, DETAIL, "accepted")
        assert held["orders_served"] == [] and held["memberships"] == []
        # Vera's own file holds the order she serves, without the resident's contact.
        await vera.skip_to_now()
        await vera.send("/mydata")
        vera_file = json.loads(await download(server, await latest_document(vera), "document"))
        assert [o["id"] for o in vera_file["orders_served"]] == [number] and not found_in(json.dumps(
            vera_file["orders_served"], ensure_ascii=False))

        # /forget: ❌ keeps everything, ✅ erases.
        await resident.skip_to_now()
        await resident.send("/forget")
        question = await next_of(resident, _("✅ Yes, erase my data"))
        assert _("Open requests to be cancelled: {count}.", count=1) in (question.text or "")
        await resident.tap(_("❌ No, keep it"), message_id=question.message_id)
        await wait_text(resident, _("Nothing was erased. Your data stays as it was."))
        await resident.skip_to_now()
        await resident.press(_("⋯ More"))
        more = await next_of(resident, _("🗑 Erase my data"))
        await resident.tap(_("🗑 Erase my data"), message_id=more.message_id)
        question = await next_of(resident, _("✅ Yes, erase my data"))
        assert {needle for _t, _c, needle in await stored(database_url)} == {n.lower() for n in NEEDLES.values()}
        since_call = max((call["seq"] for call in await sandbox.calls()), default=0)
        since_record = len(caplog.records)
        await resident.tap(_("✅ Yes, erase my data"), message_id=question.message_id)
        await wait_text(resident, _("🗑 Done: your data is erased. If you write again, you start as a new person."))
        await wait_text(vera, _("Request #{number} was cancelled by the resident. Thank you all the same!",
                                number=number))
        await outbox_drained(application)

        # Nothing of the resident is stored, logged or sent any more ...
        assert await stored(database_url) == []
        # (the phone and the flat never reach a log record, the file's upload included; Telegram hands
        # the first name to the bot in every update the person sends, so only later records are read for it)
        assert [r.name for r in caplog.records if set(found_in(log_text(r))) - {"name"}] == []
        after = caplog.records[since_record:]
        assert any(r.name.startswith("httpx") for r in after)  # the scan reads what was logged meanwhile
        assert [(r.name, found_in(log_text(r))) for r in after if found_in(log_text(r))] == []
        calls = await sandbox.calls(after=since_call)
        assert any(call["method"].lower() == "sendmessage" for call in calls)
        assert [(c["method"], found_in(normalised(c["params"]))) for c in calls
                if found_in(normalised(c["params"]))] == []
        # ... while the scans could see them: in Vera's earlier details message (its first version: it
        # is redacted when the request ends), and before the ✅.
        assert found_in(" ".join(text or "" for m in (await sandbox.chat(vera.id)).bot_messages
                                 for text in [m.text, *(v["text"] for v in m.history)]))

        # Writing again, the resident is a new, empty person.
        await resident.skip_to_now()
        await resident.send("/mydata")
        again = await wait_text(resident, PLACED[language].format(0))
        assert PHONE not in (again.text or "") and DETAIL not in (again.text or "")
