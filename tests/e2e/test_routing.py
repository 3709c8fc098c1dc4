"""Routing end to end (issue 12, points 5–7), in Chinese and English: a coordinator's rule sends a
request to its team with no tap and the centre can still move it, an emergency goes straight to
the emergency team, a request placed before any coordinator exists reaches the first one appointed,
and Listen plays a voice note to the coordinator privately."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.adapters.app import BotApplication
from sandbox import SandboxClient, SandboxServer, SimGroup
from storage.models import ScheduledItem
from tests.e2e.harness import (
    Cast,
    bot_running,
    cast_of,
    centre_running,
    make_settings,
    place_emergency,
    place_order,
    set_up_centre,
    tap_on,
    tr,
    wait_text,
)

LANGUAGES = pytest.mark.parametrize("language", ["zh", "en"])


async def second_team(cast: Cast, code: str, name: str, category: str) -> SimGroup:
    """The coordinator adds team ``code`` for ``category`` and links a new group, where Victor is."""
    group = await cast.sandbox.create_group(name, creator=cast.coordinator, members=[cast.volunteers[1]])
    await cast.coordinator.send(f"/team add {code} {name} {category}")
    await wait_text(cast.coordinator, f"/link {code}")
    await group.add_bot(cast.coordinator)
    await cast.coordinator.send(f"/link@sandbox_bot {code}", chat_id=group.id)
    await wait_text(cast.coordinator, name, chat_id=group.id)
    return group


@LANGUAGES
async def test_a_rule_routes_a_request_with_no_tap_and_the_centre_can_move_it(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    async with centre_running(server, sandbox, database_url, language) as (cast, _application):
        fixers = await second_team(cast, "fixers", "快修队", "repair")
        coco = cast.coordinator

        await coco.skip_to_now()
        await coco.send("/routes")
        rules = await wait_text(coco, _("🧭 Routing rules: a new request that matches goes straight to the team, "
                                        "and you see it was routed."))
        assert _("No rules yet: every request waits for a coordinator.") in (rules.text or "")
        await coco.tap(_("🆕 Add a rule"), message_id=rules.message_id)
        await tap_on(coco, _("New rule: which kind of help?"), _("Repair"))
        await tap_on(coco, _("New rule for {category}: from which community?", category=_("Repair")),
                     _("Any community"))
        asked = await wait_text(coco, _("New rule for {category} · {community}: which team takes these requests?",
                                        category=_("Repair"), community=_("any community")))
        assert asked.button_texts == ["维修队", "快修队"]  # the teams that take repairs
        saved = await coco.tap_and_read_answer("快修队", message_id=asked.message_id)
        assert saved.text == _("Rule saved.") and not saved.show_alert
        listed = await wait_text(coco, _("{number}. {category} · {community} → {team}", number=1,
                                         category=_("Repair"), community=_("any community"), team="快修队"))
        assert listed.button_texts == [_("🗑 Delete rule {number}", number=1), _("🆕 Add a rule")]

        # The request goes to the rule's team at once; nobody in the centre tapped anything.
        number = await place_order(cast, language)
        card = await wait_text(cast.volunteers[1], f"#{number}", chat_id=fixers.id)
        assert card.button_texts == [_("✋ Accept")]
        await wait_text(cast.resident, _("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon.", number=number, team="快修队"))
        await wait_text(coco, _("Request #{number} → {team} (routed by a rule).", number=number, team="快修队"),
                        chat_id=cast.coordinators_group.id)
        routed = await wait_text(coco, _("🧭 Routed by a rule to team {team}. Tap another team to move it.",
                                         team="快修队"), chat_id=cast.coordinators_group.id)
        assert routed.button_texts == [_("➡️ {team}", team="维修队"), _("Reject"), _("📜 History")]

        # Re-dispatch from the card, as ever.
        moved = await coco.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id,
                                               message_id=routed.message_id)
        assert moved.text == _("Sent to {team}.", team="维修队")
        await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        await fixers.wait_for(lambda chat: _("Status: moved to another team")
                              in (chat.message(card.message_id).text or ""))

        # The rule is deleted with its button: the next request waits for a coordinator.
        await coco.skip_to_now()
        deleted = await coco.tap_and_read_answer(_("🗑 Delete rule {number}", number=1), message_id=listed.message_id)
        assert deleted.text == _("Rule deleted.")
        await wait_text(coco, _("No rules yet: every request waits for a coordinator."))


async def escalation_minutes(application: BotApplication, number: int) -> list[int]:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        order = await uow.orders.get(number)
        assert order is not None
        due = (await uow.session.scalars(select(ScheduledItem.due_at).where(
            ScheduledItem.order_id == number, ScheduledItem.kind == "escalate").order_by(ScheduledItem.step))).all()
        return [round((at - order.updated_at) / dt.timedelta(minutes=1)) for at in due]


@LANGUAGES
async def test_an_emergency_goes_straight_to_the_emergency_team(server: SandboxServer, sandbox: SandboxClient,
                                                                database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, "polling") as application:
        await set_up_centre(cast, language)
        rescue = await second_team(cast, "rescue", "应急队", "emergency")
        number = await place_emergency(cast, language)
        card = await wait_text(cast.volunteers[1], f"#{number}", chat_id=rescue.id)
        assert "🚨" in (card.text or "") and card.button_texts == [_("✋ Accept")]
        await wait_text(cast.coordinator, _("🚨 Emergency request #{number} went straight to team {team}.",
                                            number=number, team="应急队"), chat_id=cast.coordinators_group.id)
        await wait_text(cast.coordinator, _("🚨 Emergency: sent straight to team {team}, no tap needed. "
                                            "Tap another team to move it.", team="应急队"),
                        chat_id=cast.coordinators_group.id)
        await wait_text(cast.resident, _("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon.", number=number, team="应急队"))
        assert await escalation_minutes(application, number) == list(settings.reminders.urgent_escalation_minutes)


@LANGUAGES
async def test_a_request_placed_before_any_coordinator_reaches_the_first_one(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             default_language=language)
    async with bot_running(settings, "polling"):
        number = await place_order(cast, language)  # nobody coordinates yet; the admin never started the bot
        coco = cast.coordinator
        await coco.start()
        await cast.admin.start()
        await cast.admin.send(f"/coordinator add {coco.id}")
        await wait_text(coco, _("You are now a coordinator. Tap 📥 Requests to dispatch to see open requests."))
        card = await wait_text(coco, _("🆕 New request #{number}", number=number))
        assert _("Reject") in card.button_texts
        # The new coordinator sets up a team and dispatches it; the card they were given follows.
        await coco.send("/team add repair 维修队 repair")
        await wait_text(coco, "/link repair")
        await cast.team_group.add_bot(coco)
        await coco.send("/link@sandbox_bot repair", chat_id=cast.team_group.id)
        await wait_text(coco, "维修队", chat_id=cast.team_group.id)
        await coco.send(f"/dispatch {number} repair")
        await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        await coco.wait_for(lambda chat: _("➡️ Sent to team {team}.", team="维修队")
                            in (chat.message(card.message_id).text or ""))


@LANGUAGES
async def test_listen_plays_the_voice_note_to_the_coordinator_privately(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    async with centre_running(server, sandbox, database_url, language) as (cast, _application):
        number = await place_order(cast, language, voice=True)
        card = await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                               chat_id=cast.coordinators_group.id)
        answer = await cast.coordinator.tap_and_read_answer(_("🎤 Listen"), chat_id=cast.coordinators_group.id,
                                                            message_id=card.message_id)
        assert answer.text == _("I sent the voice note to our private chat.") and not answer.show_alert
        view = await cast.coordinator.wait_for(lambda chat: any(m.kind == "voice" for m in chat.bot_messages))
        voice = next(m for m in view.bot_messages if m.kind == "voice")
        assert voice.protect_content
        await wait_text(cast.coordinator, _("🎤 The voice note of request #{number}:", number=number))
        assert not any(m.kind == "voice" for m in (await cast.coordinators_group.view()).bot_messages)
        # Still waiting for a coordinator: listening dispatched nothing.
        assert _("➡️ {team}", team="维修队") in (await cast.coordinators_group.view()).message(
            card.message_id).button_texts
