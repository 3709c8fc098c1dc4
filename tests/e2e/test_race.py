"""Fifty volunteers tap Accept at the same moment: the database picks exactly one.

The centre is set up through the bot (admin → coordinator → team → linked group); the fifty
volunteers are approved directly through the repositories (registration through /join is proven in
``test_loop.py``). The taps go out in one sandbox batch, so all fifty callback queries reach the bot
in the same getUpdates answer (or webhook burst).

``handling``: ``sequential`` is the application exactly as ``build_application`` makes it (PTB
handles one update at a time); ``concurrent`` lets PTB handle up to 64 updates at once — the way a
webhook deployment with several workers, or several processes on one PostgreSQL, would meet the
race — so only the conditional UPDATE can keep the taps apart.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder

import bot.adapters.app
from bot.domain.phones import shown_phone
from sandbox import SandboxClient, SandboxServer, gather_answers
from tests.e2e.harness import (
    Cast,
    approve_directly,
    bot_running,
    make_settings,
    outbox_drained,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)

VOLUNTEERS = 50
LANGUAGE = "zh"
RESIDENT_PHONE = "+8613800000001"  # what harness.place_order checks in the summary


class _ConcurrentBuilder(ApplicationBuilder):  # type: ignore[type-arg]
    """``ApplicationBuilder`` that lets PTB handle up to 64 updates at the same time."""

    def build(self) -> Application[Any, Any, Any, Any, Any, Any]:  # type: ignore[override]
        self.concurrent_updates(64)
        return super().build()


@pytest.fixture
def handling(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "concurrent":
        monkeypatch.setattr(bot.adapters.app, "ApplicationBuilder", _ConcurrentBuilder)
    return str(request.param)


async def big_cast(sandbox: SandboxClient) -> Cast:
    code = "zh-hans" if LANGUAGE == "zh" else "en"
    admin = await sandbox.create_user("Admin", language_code=code)
    coordinator = await sandbox.create_user("Coco", language_code=code)
    resident = await sandbox.create_user("Rita", language_code=code, phone_number=RESIDENT_PHONE)
    volunteers = [await sandbox.create_user(f"V{i:02d}", language_code=code) for i in range(VOLUNTEERS)]
    coordinators_group = await sandbox.create_group("Centre", creator=admin, members=[coordinator])
    team_group = await sandbox.create_group("Repair team", creator=coordinator, members=volunteers)
    return Cast(sandbox, admin, coordinator, resident, volunteers, coordinators_group, team_group)


def versions(message: Any) -> list[str]:
    """Every text a message has shown, oldest first (its history, then what it shows now)."""
    return [v["text"] or "" for v in message.history] + [message.text or ""]


@pytest.mark.parametrize(("mode", "handling"), [("polling", "sequential"), ("polling", "concurrent"),
                                                ("webhook", "concurrent")], indirect=["handling"])
async def test_fifty_volunteers_tap_accept_at_once(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                                   mode: str, handling: str) -> None:
    _ = tr(LANGUAGE)
    cast = await big_cast(sandbox)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, mode) as application:
        deps = application.bot_data.deps
        assert deps is not None
        assert application.concurrent_updates == (64 if handling == "concurrent" else 1)
        await set_up_centre(Cast(**{**vars(cast), "volunteers": []}), LANGUAGE)  # no /join dialogs
        await approve_directly(application, cast, LANGUAGE)
        number = await place_order(cast, LANGUAGE)
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        answer = await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"),
                                                            chat_id=cast.coordinators_group.id)
        assert answer.text == _("Sent to {team}.", team="维修队")
        card = await wait_text(cast.coordinator, f"#{number}", chat_id=cast.team_group.id)
        assert card.button_texts == [_("✋ Accept")]
        await outbox_drained(application)  # the dispatch's own messages are all out
        calls_before = len(await sandbox.calls())

        # All fifty taps in one request: their callback queries reach the bot together.
        batch = sandbox.batch()
        for volunteer in cast.volunteers:
            batch.tap(volunteer, _("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        started = time.monotonic()
        taps = await batch.run()
        query_ids = [t["callback_query_id"] for t in taps]
        assert len(set(query_ids)) == VOLUNTEERS and all(t["update_id"] for t in taps)
        answers = await gather_answers(sandbox, query_ids, timeout=30)
        answered_in = time.monotonic() - started

        # Every tap answered: one toast for the winner, an alert for each of the other 49.
        assert all(a.answered for a in answers), [q for q, a in zip(query_ids, answers, strict=True) if not a.answered]
        won = _("You took request #{number}; the details are in our private chat.", number=number)
        sorry = _("Sorry, someone else has already taken this request.")
        winners = [v for v, a in zip(cast.volunteers, answers, strict=True) if a.text == won and not a.show_alert]
        losers = [v for v, a in zip(cast.volunteers, answers, strict=True) if a.text == sorry and a.show_alert]
        assert len(winners) == 1 and len(losers) == VOLUNTEERS - 1, collections.Counter(
            (a.text, a.show_alert) for a in answers)
        winner = winners[0]
        assert answered_in < 15, f"answers took {answered_in:.1f}s; Telegram drops answers after 15 s"

        # The winner's card, the resident's news and the winner's details all arrive ...
        taken = _("Status: ✅ taken by {volunteer}", volunteer=winner.first_name)
        await cast.team_group.wait_for(lambda chat: taken in (chat.message(card.message_id).text or ""))
        await wait_text(cast.resident, _("Good news: volunteer {volunteer} has taken request #{number} and will "
                                         "contact you.", volunteer=winner.first_name, number=number))
        details = await wait_text(winner, shown_phone(RESIDENT_PHONE))  # shown without +86
        assert details.protect_content and "502室" in (details.text or "")
        # ... and then nothing more is queued: whatever the 50 taps caused has been sent.
        await outbox_drained(application)

        # The database: one assignee, one "accepted" in the audit log.
        async with deps.uow() as uow:
            order = await uow.orders.get(number)
            assert order is not None and order.status == "accepted"
            winner_row = await uow.users.by_telegram_id(winner.id)
            assert winner_row is not None and order.volunteer_id == winner_row.id
            events = [e.event for e in await uow.orders.events(number)]
        assert events.count("accepted") == 1, events

        # Each query answered by exactly one successful answerCallbackQuery (no second tries).
        calls = await sandbox.calls(after=calls_before)
        answered = collections.Counter(c["params"].get("callback_query_id") for c in calls
                                       if c["method"].lower() == "answercallbackquery")
        assert {q: answered[q] for q in query_ids} == {q: 1 for q in query_ids}
        assert all(c["status"] == 200 for c in calls if c["method"].lower() == "answercallbackquery")

        # The card was edited to "taken" exactly once, in the chat and in the recorded calls.
        view = await cast.team_group.view()
        shown = versions(view.message(card.message_id))
        assert sum(taken in text for text in shown) == 1 and shown[-1].count(taken) == 1, shown
        assert view.message(card.message_id).buttons == []
        assert not any(_("Status: ✅ taken by {volunteer}", volunteer=v.first_name) in text
                       for v in losers for text in shown)
        edits = [c for c in calls if c["method"].lower() == "editmessagetext"
                 and str(c["params"].get("message_id")) == str(card.message_id)]
        assert len(edits) == 1 and edits[0]["status"] == 200 and taken in edits[0]["params"]["text"], edits
        assert int(edits[0]["params"]["chat_id"]) == cast.team_group.id

        # Only the winner got the resident's details; the others got nothing at all after the welcome.
        for volunteer in cast.volunteers:
            messages = (await volunteer.chat()).bot_messages
            shown = shown_phone(RESIDENT_PHONE)
            with_phone = [m for m in messages if shown in (m.text or "")
                          or any(shown in (v["text"] or "") for v in m.history)]
            if volunteer is winner:
                assert [m.message_id for m in with_phone] == [details.message_id]
            else:
                assert with_phone == [] and len(messages) == 1, (volunteer.first_name, messages)
        sends = [c for c in calls if c["method"].lower() == "sendmessage"]
        assert {int(c["chat_id"]) for c in sends} == {winner.id, cast.resident.id}, sends
        assert await sandbox.flood_violations() == []
