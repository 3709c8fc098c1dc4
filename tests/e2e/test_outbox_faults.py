"""Fault storms during the loop: Telegram answers 429 (with retry_after) and 5xx at the worst
moments, yet every notification arrives exactly once, in order, and the sender never calls inside
an open retry_after window (the sandbox records any such call as a flood violation).

The windows are real seconds (retry_after=1; the bot runs on the real clock here), so each storm is
short and aimed: right before dispatch, right before accept, and during progress and rating.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from sandbox import SandboxClient, SandboxServer
from storage.models import OutboxMessage
from tests.e2e.harness import (
    bot_running,
    cast_of,
    make_settings,
    outbox_drained,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)

LANGUAGE = "en"
STORM_TIMEOUT = 15.0  # a wait that may sit behind a few retry windows and backoffs


async def test_loop_completes_through_fault_storms(server: SandboxServer, sandbox: SandboxClient,
                                                   database_url: str) -> None:
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    resident, coordinator, group = cast.resident, cast.coordinator, cast.team_group
    vera = cast.volunteers[0]
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling") as application:
        deps = application.bot_data.deps
        assert deps is not None
        await set_up_centre(cast, LANGUAGE)
        number = await place_order(cast, LANGUAGE)
        await wait_text(coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
        storm_started = time.monotonic()

        # Storm 1, right before dispatch: the card, the resident's news and the coordinators' note
        # meet a 429 (any chat), a 502 (any chat) and a 429 aimed at the resident.
        await sandbox.fail_next("429", count=1, method="sendMessage", retry_after=1)
        await sandbox.fail_next("5xx", count=1, method="sendMessage")
        await sandbox.fail_next("429", count=1, method="sendMessage", chat_id=resident.id, retry_after=1)
        answer = await coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"),
                                                       chat_id=cast.coordinators_group.id)
        assert answer.text == _("Sent to {team}.", team="维修队")
        card = await wait_text(vera, f"#{number}", chat_id=group.id, timeout=STORM_TIMEOUT)
        assert card.button_texts == [_("✋ Accept")]
        passed = _("Request #{number} was passed to the {team} team. A volunteer will take it soon.",
                   number=number, team="维修队")
        await wait_text(resident, passed, timeout=STORM_TIMEOUT)
        await wait_text(coordinator, _("Request #{number} → {team} (by {coordinator}).", number=number,
                                       team="维修队", coordinator="Coco"),
                        chat_id=cast.coordinators_group.id, timeout=STORM_TIMEOUT)

        # Storm 2, right before accept: the card edit meets a 429 in the group and then a 502 (no
        # chat given); the details meet two 503s in Vera's chat; some send meets a 429.
        await sandbox.fail_next("429", count=1, method="editMessageText", chat_id=group.id, retry_after=1)
        await sandbox.fail_next("5xx", count=1, method="editMessageText")
        await sandbox.fail_next("5xx", count=2, method="sendMessage", chat_id=vera.id, status=503)
        await sandbox.fail_next("429", count=1, method="sendMessage", retry_after=1)
        won = await vera.tap_and_read_answer(_("✋ Accept"), chat_id=group.id, message_id=card.message_id)
        assert won.text == _("You took request #{number}; the details are in our private chat.", number=number)
        taken = _("Status: ✅ taken by {volunteer}", volunteer="Vera")
        await group.wait_for(lambda chat: taken in (chat.message(card.message_id).text or ""), timeout=STORM_TIMEOUT)
        details = await wait_text(vera, "138 0000 0001", timeout=STORM_TIMEOUT)
        assert details.protect_content and "502室" in (details.text or "")
        good_news = _("Good news: volunteer {volunteer} has taken request #{number} and will contact you.",
                      volunteer="Vera", number=number)
        await wait_text(resident, good_news, timeout=STORM_TIMEOUT)

        # Storm 3, on the way: two 429s on any edit, a 503 on any send.
        await sandbox.fail_next("429", count=2, method="editMessageText", retry_after=1)
        await sandbox.fail_next("5xx", count=1, method="sendMessage", status=503)
        await vera.tap(_("🚶 On my way"), message_id=details.message_id)
        on_way = _("{volunteer} is on the way for request #{number}.", volunteer="Vera", number=number)
        await wait_text(resident, on_way, timeout=STORM_TIMEOUT)
        on_way_card = _("Status: 🚶 {volunteer} is on the way", volunteer="Vera")
        await group.wait_for(lambda chat: on_way_card in (chat.message(card.message_id).text or ""),
                             timeout=STORM_TIMEOUT)
        noted = _("Noted: on your way to request #{number}. Tap Done when finished.", number=number)
        await wait_text(vera, noted, timeout=STORM_TIMEOUT)

        # Storm 4, done and rating: a 429 aimed at the resident, a 502 on the group's edit.
        await sandbox.fail_next("429", count=1, method="sendMessage", chat_id=resident.id, retry_after=1)
        await sandbox.fail_next("5xx", count=1, method="editMessageText", chat_id=group.id)
        await vera.tap(_("✔️ Done"))
        ask_rating = _("{volunteer} has finished request #{number}. How did it go?", volunteer="Vera",
                       number=number)
        await wait_text(resident, ask_rating, timeout=STORM_TIMEOUT)
        done_card = _("Status: ✔️ done by {volunteer}", volunteer="Vera")
        await group.wait_for(lambda chat: done_card in (chat.message(card.message_id).text or ""),
                             timeout=STORM_TIMEOUT)
        await wait_text(vera, _("Thank you! How many hours did request #{number} take? Tap or type a number.",
                                number=number), timeout=STORM_TIMEOUT)
        await vera.tap("2")
        await wait_text(vera, _("Recorded {hours} h for request #{number}. Thank you!", hours=2.0, number=number),
                        timeout=STORM_TIMEOUT)
        await resident.tap(_("😊 Satisfied"))
        await wait_text(resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."),
                        timeout=STORM_TIMEOUT)
        await resident.send("very good")
        await wait_text(resident, _("Thank you for your feedback!"), timeout=STORM_TIMEOUT)
        rated = _("Status: done, rated {verdict}", verdict=_("😊 Satisfied"))
        await group.wait_for(lambda chat: rated in (chat.message(card.message_id).text or ""), timeout=STORM_TIMEOUT)
        storm_seconds = time.monotonic() - storm_started

        # Every fault was used up, and each kind really hit the bot's calls.
        assert server.faults.armed == [], server.faults.armed
        calls = await sandbox.calls()
        faulted = Counter((c["fault"], c["method"].lower()) for c in calls if c["fault"])
        assert faulted == {("429", "sendmessage"): 4, ("5xx", "sendmessage"): 4,
                           ("429", "editmessagetext"): 3, ("5xx", "editmessagetext"): 2}, faulted
        # Nothing was called inside an open retry_after window.
        assert await sandbox.flood_violations() == []

        # Every notification arrived exactly once (a refused call did nothing; the retry did it once).
        resident_texts = Counter(m.text for m in (await resident.chat()).bot_messages)
        for expected in (passed, good_news, on_way, ask_rating, _("Thank you for your feedback!")):
            assert resident_texts[expected] == 1, (expected, resident_texts)
        vera_messages = (await vera.chat()).bot_messages
        vera_texts = [m.text or "" for m in vera_messages]
        # the details message is redacted when the order closes: its first version held the phone
        with_phone = [m for m in vera_messages
                      if any("138 0000 0001" in (text or "") for text in [m.text, *(v["text"] for v in m.history)])]
        assert len(with_phone) == 1 and vera_texts.count(noted) == 1, vera_texts
        # The card went through its states in order, each shown once (no state lost to a fault).
        shown = [v["text"] for v in (await group.view()).message(card.message_id).history]
        shown.append((await group.view()).message(card.message_id).text)
        statuses = [next((s for s in (taken, on_way_card, done_card, rated) if s in (t or "")), None) for t in shown]
        assert statuses == [None, taken, on_way_card, done_card, rated], shown

        # The outbox agrees: nothing pending, nothing failed (a sent row is recorded with the next
        # claim or within RECORD_DELAY of its call, so wait for the last records to land).
        await outbox_drained(application, timeout=5)
        async with deps.uow() as uow:
            statuses_of_rows = Counter((await uow.session.scalars(select(OutboxMessage.status))).all())
        assert set(statuses_of_rows) <= {"sent", "superseded"}, statuses_of_rows
    assert storm_seconds < 20, f"the storms took {storm_seconds:.1f}s"


async def test_a_429_on_a_callback_answer_is_respected_too(server: SandboxServer, sandbox: SandboxClient,
                                                           database_url: str) -> None:
    """The tap's answer is the one call that bypasses the outbox. A 429 on it opens a retry window
    (one without a chat: overall, in the sandbox's model) that the outbox must respect as well, and
    the tap must still be answered once the window has passed (Telegram waits 15 s for it)."""
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    vera, group = cast.volunteers[0], cast.team_group
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling"):
        await set_up_centre(cast, LANGUAGE)
        number = await place_order(cast, LANGUAGE)
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(vera, f"#{number}", chat_id=group.id)
        # Let everything queued so far go out first: a call already in flight when the window
        # opens cannot be recalled by any client; what is proven here is that nothing *starts*.
        await wait_text(cast.resident, _("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon.", number=number, team="维修队"))
        await wait_text(cast.coordinator, _("Request #{number} → {team} (by {coordinator}).", number=number,
                                            team="维修队", coordinator="Coco"), chat_id=cast.coordinators_group.id)

        await sandbox.fail_next("429", count=1, method="answerCallbackQuery", retry_after=1)
        tap = await vera.tap(_("✋ Accept"), chat_id=group.id, message_id=card.message_id)
        await wait_text(vera, "138 0000 0001", timeout=STORM_TIMEOUT)
        await group.wait_for(lambda chat: _("Status: ✅ taken by {volunteer}", volunteer="Vera")
                             in (chat.message(card.message_id).text or ""), timeout=STORM_TIMEOUT)
        answer = await sandbox.callback_answer(tap.callback_query_id, timeout=5)
        violations = await sandbox.flood_violations()
        assert violations == [], violations
        assert answer.answered and answer.text == _(
            "You took request #{number}; the details are in our private chat.", number=number), answer
