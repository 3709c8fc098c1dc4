"""Every routine action is a button (issue 12, point 2), through the sandbox in both languages: a
volunteer and a building leader do their routine actions only by pressing keyboard buttons, the
keyboard changes when a role changes, /help differs by role, and text typed outside a dialog
becomes a request's description after one tap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.adapters.app import BotApplication
from bot.views import menu
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from tests.e2e.harness import (
    COMMUNITY_Q,
    DESCRIBE,
    Cast,
    centre_running,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages

pytestmark = in_both_languages


@dataclass
class Centre:
    cast: Cast
    app: BotApplication
    language: str


@pytest.fixture
async def centre(language: str, server: SandboxServer, sandbox: SandboxClient,
                 database_url: str) -> AsyncIterator[Centre]:
    async with centre_running(server, sandbox, database_url, language) as (cast, app):
        yield Centre(cast, app, language)


def shown(rows: list[list[str]] | None) -> set[str]:
    return {label for row in rows or [] for label in row}


async def keyboard(user: SimUser) -> set[str]:
    return shown(await user.reply_keyboard())


async def press(user: SimUser, key: str, language: str) -> MessageView:
    """Press the keyboard button of ``key`` (it must be on the person's keyboard) and read the reply."""
    label = tr(language)(menu.LABELS[key])
    assert label in await keyboard(user), (label, await user.reply_keyboard())
    await user.skip_to_now()
    await user.press(label)
    return await user.next_message()


async def test_volunteers_and_building_leaders_need_only_buttons(centre: Centre, sandbox: SandboxClient) -> None:
    cast, language = centre.cast, centre.language
    _ = tr(language)
    label = {key: _(text) for key, text in menu.LABELS.items()}
    vera = cast.volunteers[0]

    # The approved volunteer's keyboard: pause, hours, quiet hours; no "become a volunteer".
    await vera.wait_for(lambda chat: label[menu.OFF_DUTY] in shown(chat.reply_keyboard))
    assert label[menu.JOIN] not in await keyboard(vera)
    paused = await press(vera, menu.OFF_DUTY, language)
    assert paused.text == _("You are off duty: nobody will be asked to reach you until you tap ✅ Take requests.")
    assert label[menu.ON_DUTY] in await keyboard(vera) and label[menu.OFF_DUTY] not in await keyboard(vera)
    resumed = await press(vera, menu.ON_DUTY, language)
    assert resumed.text == _("You are on duty: you will get requests and reminders.")
    quiet = await press(vera, menu.QUIET, language)
    await vera.tap("22:00–07:00", message_id=quiet.message_id)
    await wait_text(vera, _("Quiet hours set: {start}–{end}. Reminders wait until they end; emergencies do not.",
                            start="22:00", end="07:00"))
    served = await press(vera, menu.HOURS, language)
    by_source = "This month: {hours} h (requests {orders} h, activities {activities} h)"
    assert served.text == "\n".join((
        _("⏱ Your service hours"), _(by_source, hours="0", orders="0", activities="0"),
        _(by_source.replace("This month", "This year"), hours="0", orders="0", activities="0"),
        _(by_source.replace("This month", "In total"), hours="0", orders="0", activities="0"),
        _("Thank you! Tap below for a service-record certificate.")))
    assert served.button_texts == [_("This month"), _("This year"), _("Last year")]
    more = await press(vera, menu.MORE, language)
    await vera.tap(label[menu.PROFILE], message_id=more.message_id)
    await wait_text(vera, "Vera Li")
    volunteer_help = (await press(vera, menu.HELP, language)).text or ""
    assert label[menu.OFF_DUTY] in volunteer_help and label[menu.JOIN] not in volunteer_help

    # A resident's help and keyboard: no volunteer's buttons, and the way to join.
    rita = cast.resident
    await rita.start()
    await wait_text(rita, _("New request"))
    resident_help = (await press(rita, menu.HELP, language)).text or ""
    assert label[menu.JOIN] in resident_help and label[menu.OFF_DUTY] not in resident_help
    assert label[menu.NEIGHBOUR] not in await keyboard(rita)

    # Appointed a building leader, Rita's keyboard changes; she helps a neighbour and shares the QR code.
    await cast.coordinator.send("/building add dh_3 东湖社区 3号楼")
    await wait_text(cast.coordinator, "dh_3")
    await cast.coordinator.send(f"/building leader dh_3 {rita.id}")
    await rita.wait_for(lambda chat: label[menu.NEIGHBOUR] in shown(chat.reply_keyboard))
    await wait_text(rita, label[menu.NEIGHBOUR])  # the news of the appointment, after the new keyboard
    leader_help = (await press(rita, menu.HELP, language)).text or ""
    assert label[menu.NEIGHBOUR] in leader_help and label[menu.BUILDING_LINK] in leader_help
    asked = await press(rita, menu.NEIGHBOUR, language)
    assert asked.text == _("What kind of help do you need?")
    await rita.tap(_("Cancel"), message_id=asked.message_id)
    await wait_text(rita, _("Request cancelled. Nothing was sent."))
    code = await press(rita, menu.BUILDING_LINK, language)
    assert code.kind == "photo" and "dh_3" in (code.text or code.extra.get("caption", "") or "")

    # Stood down, the neighbour's button goes.
    await cast.coordinator.send(f"/building unleader dh_3 {rita.id}")
    await rita.wait_for(lambda chat: label[menu.NEIGHBOUR] not in shown(chat.reply_keyboard))


async def test_text_typed_outside_a_dialog_becomes_a_request_after_one_tap(centre: Centre) -> None:
    _ = tr(centre.language)
    rita = centre.cast.resident
    await rita.start()
    await wait_text(rita, _("New request"))
    await rita.skip_to_now()
    await rita.send("📋 我的订单")  # a label of an earlier keyboard, still in her chat: not a request's text
    assert (await rita.next_message()).text == _("You have no requests yet.")
    await rita.skip_to_now()
    await rita.send("厨房水管漏水 the kitchen pipe leaks")
    offer = await rita.next_message()
    assert "厨房水管漏水" in (offer.text or "")
    await rita.tap(_("Yes, ask for help"), message_id=offer.message_id)
    await wait_text(rita, _("What kind of help do you need?"))
    await rita.tap(_("Repair"))
    # No description question: the typed text is the description.
    asked = await wait_text(rita, _(COMMUNITY_Q))
    descriptions = [m for m in (await rita.chat()).bot_messages if m.text == _(DESCRIBE)]
    assert descriptions == [] and asked.text
    # A voice note outside a dialog is offered too; "no" leaves nothing open.
    await rita.skip_to_now()
    await rita.start()
    assert _("New request") in ((await rita.next_message()).text or "")
    await rita.skip_to_now()
    await rita.send_voice(b"OggS-leaking-pipe", duration=4)
    voice_offer = await rita.next_message()
    assert voice_offer.text == _("I got your voice note. Shall I send it to the volunteers as a request for help?")
    await rita.tap(_("No, thanks"), message_id=voice_offer.message_id)
    await wait_text(rita, _("All right. Whenever you need help, tap {request}.", request=_(menu.LABELS[menu.REQUEST])))
