"""Inbound de-duplication: Telegram may deliver an update twice (same ``update_id``), or deliver an
old one again; its effects happen once.

* a resident's dialog answer delivered twice: the dialog advances one step, the next prompt
  arrives once (without the de-duplication the copy would be taken as the answer to the next step);
* a volunteer's Accept tap delivered twice: one assignment, one card edit, one details message;
* an already handled Confirm tap (and the Accept tap) delivered again: still one order.

Each copy is also seen to reach the bot and be recognised (``bot.adapters.handlers.common`` logs
"update … already handled; ignored"), so the test cannot pass because a copy never arrived.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable

import pytest

from bot.views.common import SHARE_PHONE
from sandbox import MessageView, SandboxClient, SandboxServer
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DETAIL_Q,
    begin_request,
    bot_running,
    cast_of,
    contact_question,
    make_settings,
    outbox_drained,
    set_up_centre,
    tr,
    wait_text,
)

LANGUAGE = "en"
IGNORED = re.compile(r"^update (\d+) already handled; ignored$")


def ignored_updates(caplog: pytest.LogCaptureFixture) -> Counter[int]:
    """How many times each update id was recognised as already handled."""
    found: Counter[int] = Counter()
    for record in caplog.records:
        match = IGNORED.match(record.getMessage()) if record.name == "bot.adapters.handlers.common" else None
        if match:
            found[int(match.group(1))] += 1
    return found


async def recognised(caplog: pytest.LogCaptureFixture, update_id: int, times: int = 1, timeout: float = 10.0) -> None:
    """Wait until the bot has recognised ``update_id`` as a duplicate ``times`` times."""
    deadline = time.monotonic() + timeout
    while ignored_updates(caplog)[update_id] < times:
        if time.monotonic() > deadline:
            raise TimeoutError(f"update {update_id} was not recognised as a duplicate {times}x: "
                               f"{ignored_updates(caplog)}")
        await asyncio.sleep(0.02)


async def first_of(*waits: Awaitable[object], timeout: float = 10.0) -> None:
    """Return as soon as one of ``waits`` completes."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        done, _pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise TimeoutError("nothing happened")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def count_text(messages: list[MessageView], needle: str) -> int:
    return sum(needle in (m.text or "") for m in messages)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_duplicate_and_redelivered_updates_act_once(server: SandboxServer, sandbox: SandboxClient,
                                                          database_url: str, mode: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    language = LANGUAGE
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    resident, coordinator, group = cast.resident, cast.coordinator, cast.team_group
    vera = cast.volunteers[0]
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, mode) as application:
        deps = application.bot_data.deps
        assert deps is not None
        await set_up_centre(cast, language)

        # The request dialog, with the building answer delivered twice.
        await begin_request(resident, language)
        await resident.send("kitchen pipe leaks")
        await wait_text(resident, _(COMMUNITY_Q))
        await resident.send("Sunshine")
        await wait_text(resident, _(BUILDING_Q))
        await sandbox.duplicate_next_updates(1)
        building = await resident.send("Building 3, unit 2")
        detail_prompt = _(DETAIL_Q)
        await wait_text(resident, detail_prompt)
        when_prompt = contact_question(language)  # the question after the detail
        # Settled when the copy is recognised, or (the failure) when it advanced the dialog again.
        await first_of(recognised(caplog, building["update_id"]),
                       resident.wait_for(lambda chat: count_text(chat.bot_messages, when_prompt) > 0))
        messages = (await resident.chat()).bot_messages
        assert count_text(messages, detail_prompt) == 1 and count_text(messages, when_prompt) == 0, \
            [m.text for m in messages]
        await recognised(caplog, building["update_id"])
        async with deps.uow() as uow:
            resident_row = await uow.users.by_telegram_id(resident.id)
            assert resident_row is not None
            resident_id = resident_row.id
            dialog = await uow.dialogs.get(resident_id)
            assert dialog is not None and dialog.step == "detail", dialog and (dialog.step, dialog.data)
            assert dialog.data["building"] == "Building 3, unit 2" and "detail" not in dialog.data
        await resident.send("Room 502")
        await wait_text(resident, when_prompt)
        await resident.press(_(SHARE_PHONE))
        await wait_text(resident, "📞")

        # Confirm, then the same Confirm tap delivered again once the order exists.
        confirm = await resident.tap(_(CONFIRM_TODAY))
        answer = await sandbox.callback_answer(confirm.callback_query_id)
        assert answer.answered and not answer.show_alert, answer
        received = _("Thank you! Your request number is <b>#{number}</b>. We will message you at every step."
                     ).split("<b>")[0]
        match = re.search(r"#(\d+)", (await wait_text(resident, received)).text or "")
        assert match
        number = int(match.group(1))
        new_request = _("🆕 New request #{number}", number=number)
        await wait_text(coordinator, new_request, chat_id=cast.coordinators_group.id)
        assert confirm.update_id is not None
        await sandbox.redeliver(confirm.update_id)
        await recognised(caplog, confirm.update_id)

        # Dispatch, then Vera's Accept tap delivered twice.
        await coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(vera, f"#{number}", chat_id=group.id)
        await outbox_drained(application)  # the dispatch's own messages are all out
        calls_before_accept = len(await sandbox.calls())
        await sandbox.duplicate_next_updates(1)
        accept = await vera.tap(_("✋ Accept"), chat_id=group.id, message_id=card.message_id)
        accepted = await sandbox.callback_answer(accept.callback_query_id)
        assert accepted.text == _("You took request #{number}; the details are in our private chat.", number=number)
        assert not accepted.show_alert
        assert accept.update_id is not None
        await recognised(caplog, accept.update_id)
        # ... and delivered once more after that, for good measure.
        await sandbox.redeliver(accept.update_id)
        await recognised(caplog, accept.update_id, times=2)
        taken = _("Status: ✅ taken by {volunteer}", volunteer="Vera")
        await group.wait_for(lambda chat: taken in (chat.message(card.message_id).text or ""))
        details = await wait_text(vera, "138 0000 0001")
        good_news = _("Good news: volunteer {volunteer} has taken request #{number} and will contact you.",
                      volunteer="Vera", number=number)
        await wait_text(resident, good_news)
        await outbox_drained(application)

        # One order, one assignment, one of everything it caused.
        async with deps.uow() as uow:
            orders = await uow.orders.of_resident(resident_id)
            assert [o.id for o in orders] == [number]
            vera_row = await uow.users.by_telegram_id(vera.id)
            assert vera_row is not None and orders[0].volunteer_id == vera_row.id and orders[0].status == "accepted"
            events = Counter(e.event for e in await uow.orders.events(number))
        assert events == {"created": 1, "dispatched": 1, "accepted": 1}, events
        resident_messages = (await resident.chat()).bot_messages
        assert count_text(resident_messages, received) == 1
        assert count_text(resident_messages, good_news) == 1
        coordinators_messages = (await cast.coordinators_group.view()).bot_messages
        assert count_text(coordinators_messages, new_request) == 1
        vera_messages = (await vera.chat()).bot_messages
        assert [m.message_id for m in vera_messages if "138 0000 0001" in (m.text or "")] == [details.message_id]
        card_view = (await group.view()).message(card.message_id)
        assert len(card_view.history) == 1 and taken in (card_view.text or ""), card_view
        calls = await sandbox.calls(after=calls_before_accept)
        edits = [c for c in calls if c["method"].lower() == "editmessagetext"]
        in_group = [c for c in edits if str(c["params"]["chat_id"]) == str(group.id)]
        assert len(in_group) == 1 and str(in_group[0]["params"]["message_id"]) == str(card.message_id), edits
        assert len(edits) == 2, edits  # and the centre's card once (taken: no buttons left)
        sends = Counter(int(c["chat_id"]) for c in calls if c["method"].lower() == "sendmessage")
        assert sends == {vera.id: 1, resident.id: 1}, sends
        # The tap was answered once; the copies found it answered already and changed nothing: no
        # second answer was even tried (Telegram refuses one with 400), for the Confirm tap either.
        every_call = await sandbox.calls()
        for tap in (accept, confirm):
            answers = [c["status"] for c in every_call if c["method"].lower() == "answercallbackquery"
                       and c["params"].get("callback_query_id") == tap.callback_query_id]
            assert answers == [200], (tap.callback_query_id, answers)
        assert (await sandbox.callback_answer(accept.callback_query_id)) == accepted
