"""The loop's other paths: reopen after a poor rating, cancellation, release and re-accept,
rejection, group lifecycle, blocked volunteers, voice notes, editing a request, commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.app import BotApplication
from bot.services.roster import import_roster
from bot.views.common import MENU_LANGUAGE, MENU_MY_ORDERS
from sandbox import MessageView, SandboxClient, SandboxServer
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork
from tests.e2e.harness import (
    COMMUNITY_Q,
    DESCRIBE,
    Cast,
    bot_running,
    cast_of,
    make_settings,
    place_order,
    register_volunteer,
    set_up_centre,
    tr,
    wait_text,
)

LANGUAGE = "en"
_ = tr(LANGUAGE)
TEAM = "维修队"


@dataclass
class Running:
    cast: Cast
    app: BotApplication
    database_url: str

    async def order(self, number: int) -> dict[str, object]:
        engine = create_engine(self.database_url)
        try:
            async with UnitOfWork(session_factory(engine)) as uow:
                order = await uow.orders.get(number)
                assert order is not None
                events = [e.event for e in await uow.orders.events(number)]
                return {"status": order.status, "volunteer_id": order.volunteer_id, "round": order.round,
                        "team_id": order.team_id, "events": events, "voice": order.voice_file_id,
                        "photo": order.photo_file_id, "contact_phone": order.contact_phone}
        finally:
            await engine.dispose()


@pytest.fixture
async def centre(server: SandboxServer, sandbox: SandboxClient, database_url: str) -> AsyncIterator[Running]:
    cast = await cast_of(sandbox, LANGUAGE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling") as app:
        await set_up_centre(cast, LANGUAGE)
        yield Running(cast, app, database_url)


async def dispatched(cast: Cast, **order_args: object) -> tuple[int, MessageView]:
    number = await place_order(cast, LANGUAGE, **order_args)  # type: ignore[arg-type]
    await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
    await cast.coordinator.tap(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id)
    card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
    return number, card


async def accepted_by(cast: Cast, index: int, card: MessageView) -> MessageView:
    volunteer = cast.volunteers[index]
    answer = await volunteer.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
    assert not answer.show_alert, answer
    return await wait_text(volunteer, _("You took request <b>#{number}</b> ({category}).", number=0,
                                        category="x").split("<b>")[0])


async def test_poor_rating_reopens_the_order_for_the_centre(centre: Running) -> None:
    cast = centre.cast
    number, card = await dispatched(cast)
    details = await accepted_by(cast, 0, card)
    await cast.volunteers[0].tap(_("✔️ Done"), message_id=details.message_id)
    await wait_text(cast.resident, _("{volunteer} has finished request #{number}. How did it go?",
                                     volunteer="Vera", number=number))
    await cast.resident.tap(_("😞 Not satisfied"))
    reopened = await wait_text(cast.coordinator, _("♻️ Request #{number} reopened", number=number),
                               chat_id=cast.coordinators_group.id)
    assert _("➡️ {team}", team=TEAM) in reopened.button_texts
    await wait_text(cast.resident, _("We are sorry. Request #{number} is reopened and the centre will follow up.",
                                     number=number))
    await cast.resident.send("水管还在漏 still leaking")
    await wait_text(cast.coordinator, "still leaking", chat_id=cast.coordinators_group.id)
    state = await centre.order(number)
    assert (state["status"], state["round"], state["volunteer_id"]) == ("new", 2, None)
    # The centre dispatches it again; the reopened order gets a fresh card.
    await cast.coordinator.tap(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id,
                               message_id=reopened.message_id)
    await cast.team_group.wait_for(lambda chat: sum(
        f"#{number}" in (m.text or "") and m.button_texts == [_("✋ Accept")] for m in chat.bot_messages) == 1)
    rating_card = (await cast.team_group.view()).message(card.message_id)
    assert _("Status: moved to another team") in (rating_card.text or "")


async def test_resident_cancels_an_accepted_order(centre: Running) -> None:
    cast = centre.cast
    number, card = await dispatched(cast)
    await accepted_by(cast, 0, card)
    await cast.resident.skip_to_now()
    await cast.resident.press(_(MENU_MY_ORDERS))
    listing = await wait_text(cast.resident, _("Your requests:"))
    assert _("Cancel #{number}", number=number) in listing.button_texts
    await cast.resident.tap(_("Cancel #{number}", number=number))
    await wait_text(cast.resident, _("Request #{number} is cancelled.", number=number))
    await wait_text(cast.volunteers[0], _("Request #{number} was cancelled by the resident. Thank you all the same!",
                                          number=number))
    await cast.team_group.wait_for(
        lambda chat: _("Status: cancelled by the resident") in (chat.message(card.message_id).text or ""))
    assert (await centre.order(number))["status"] == "cancelled"
    again = await cast.resident.tap_and_read_answer(_("Cancel #{number}", number=number), message_id=listing.message_id)
    assert again.show_alert and again.text == _("Request #{number} can no longer be cancelled.", number=number)


async def test_release_and_reaccept(centre: Running) -> None:
    cast = centre.cast
    number, card = await dispatched(cast)
    details = await accepted_by(cast, 0, card)
    await cast.volunteers[0].tap(_("↩️ Release"), message_id=details.message_id)
    await wait_text(cast.resident, _("The volunteer could not do request #{number}; we are finding another one.",
                                     number=number))
    # The card's state after the release (not its first state, which also had the Accept button).
    released = _("released by {volunteer}", volunteer="Vera")
    reset = await cast.team_group.wait_for(lambda chat: released in (chat.message(card.message_id).text or ""))
    assert reset.message(card.message_id).button_texts == [_("✋ Accept")]
    await accepted_by(cast, 1, card)
    await wait_text(cast.resident, _("Good news: volunteer {volunteer} has taken request #{number} and will "
                                     "contact you.", volunteer="Victor", number=number))
    # Vera's copy of the contact was taken back on release: no buttons left to tap late (docs/retention.md).
    vera = await cast.volunteers[0].wait_for(
        lambda chat: chat.message(details.message_id).button_texts == [])
    assert vera.message(details.message_id).text == _(
        "Request <b>#{number}</b> ({category}): the resident's contact and address were removed from this "
        "message to protect their privacy.", number=number, category=_("Repair")).replace("<b>", "").replace("</b>", "")
    assert (await centre.order(number))["events"] == ["created", "dispatched", "accepted", "released", "accepted"]


async def test_coordinator_rejects_with_a_reason(centre: Running) -> None:
    cast = centre.cast
    number = await place_order(cast, LANGUAGE)
    await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
    answer = await cast.coordinator.tap_and_read_answer(_("Reject"), chat_id=cast.coordinators_group.id)
    assert answer.text == _("I asked you for the reason in our private chat.")
    await wait_text(cast.coordinator, _("Why is request #{number} rejected? Tap a reason or type one.", number=number))
    await cast.coordinator.send("outside the district")
    await wait_text(cast.resident, _("Sorry, request #{number} was not accepted: {reason}", number=number,
                                     reason="outside the district"))
    assert (await centre.order(number))["status"] == "rejected"
    late = await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id)
    assert late.show_alert


async def test_strangers_and_residents_cannot_take_or_dispatch(centre: Running) -> None:
    cast = centre.cast
    number, card = await dispatched(cast)
    outsider = await cast.sandbox.create_user("Olga", language_code="en")
    await cast.team_group.join(outsider)
    refused = await outsider.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
    assert refused.show_alert and "/join" in (refused.text or "")
    await cast.resident.skip_to_now()
    await cast.resident.send(f"/dispatch {number} repair")
    await wait_text(cast.resident, _("Only a coordinator can do this."))
    assert (await centre.order(number))["volunteer_id"] is None


async def test_group_lifecycle_link_remove_and_migrate(centre: Running, sandbox: SandboxClient) -> None:
    cast = centre.cast
    other = await sandbox.create_group("Delivery team", creator=cast.volunteers[0], members=[cast.coordinator])
    await other.add_bot(cast.volunteers[0])
    await wait_text(cast.volunteers[0], "/link", chat_id=other.id)
    await cast.volunteers[0].send("/link@sandbox_bot repair", chat_id=other.id)
    await wait_text(cast.volunteers[0], _("Only a coordinator can do this."), chat_id=other.id)
    # The team's group becomes a supergroup: orders follow it to the new id.
    supergroup = await cast.team_group.migrate(cast.coordinator)
    await cast.coordinator.send("/team add errands 跑腿队 delivery")
    await wait_text(cast.coordinator, "/link errands")
    cast.team_group = supergroup
    _number, card = await dispatched(cast)
    assert card.chat_id == supergroup.id
    # Removing the bot from its group tells the centre.
    await supergroup.remove_bot(cast.coordinator)
    await wait_text(cast.coordinator, _("I was removed from the group of team {team}; its requests cannot be posted "
                                        "until a group is linked again.", team=TEAM),
                    chat_id=cast.coordinators_group.id)


async def test_blocked_volunteer_is_reported(centre: Running) -> None:
    cast = centre.cast
    await cast.volunteers[1].block_bot()
    await wait_text(cast.coordinator, _("Volunteer {name} has blocked the bot and cannot receive requests.",
                                        name="Victor"), chat_id=cast.coordinators_group.id)


async def test_voice_note_reaches_only_the_volunteer(centre: Running) -> None:
    cast = centre.cast
    number, card = await dispatched(cast, voice=True)
    assert _("(voice note)") in (card.text or "")
    await accepted_by(cast, 0, card)
    view = await cast.volunteers[0].wait_for(lambda chat: any(m.kind == "voice" for m in chat.bot_messages))
    voice = next(m for m in view.bot_messages if m.kind == "voice")
    assert voice.protect_content
    assert voice.extra["voice"]["file_id"] == (await centre.order(number))["voice"]


async def test_photo_reaches_only_the_volunteer(centre: Running) -> None:
    """A photo with a caption is the description; the summary counts it, the card says so, and the
    volunteer who accepts gets it privately, protected (as the voice note)."""
    cast = centre.cast
    number, card = await dispatched(cast, photo=True, description="水管裂了 the pipe cracked")
    summary = next(m for m in (await cast.resident.chat()).bot_messages if _("📷 1 photo") in (m.text or ""))
    assert "水管裂了 the pipe cracked" in (summary.text or "")
    assert "水管裂了" in (card.text or "")
    await accepted_by(cast, 0, card)
    view = await cast.volunteers[0].wait_for(lambda chat: any(m.kind == "photo" for m in chat.bot_messages))
    photo = next(m for m in view.bot_messages if m.kind == "photo")
    assert photo.protect_content
    stored = (await centre.order(number))["photo"]
    assert stored and photo.extra["photo"][-1]["file_id"] == stored, (photo.extra, stored)
    assert not any(m.kind == "photo" for m in (await cast.team_group.view()).bot_messages)  # not in the group


async def test_editing_the_request_before_confirming(centre: Running) -> None:
    cast = centre.cast
    resident = cast.resident
    await resident.start()
    await wait_text(resident, _("New request"))
    await resident.press(tr(LANGUAGE)("🆘 New request"))
    await wait_text(resident, _("What kind of help do you need?"))
    await resident.skip_to_now()
    await resident.tap(_("Repair"))
    await resident.next_message()
    for answer in ("Leaking tap", "Old Town", "Block 9", "Flat 1"):
        await resident.send(answer)
        await resident.next_message()
    await resident.send("138 0013 8000")
    summary = await wait_text(resident, "📞")
    assert "+86" not in (summary.text or "") and "8000" in (summary.text or "")  # the last 4 digits only
    await resident.tap(_("✏️ Edit"))
    await wait_text(resident, _("What would you like to change?"))
    await resident.skip_to_now()
    await resident.tap(_("Your community"))
    assert (await resident.next_message()).text == _(COMMUNITY_Q)
    await resident.send("New Town")
    summary = await resident.next_message()
    assert "New Town" in (summary.text or "") and "Old Town" not in (summary.text or "")
    await resident.tap(_("✅ Tomorrow"), message_id=summary.message_id)
    thanks = _("Thank you! Your request number is <b>#{number}</b>. We will message you at every step.", number=1)
    await wait_text(resident, thanks.split("<b>")[0])
    order = await centre.order(1)
    assert order["contact_phone"] == "+8613800138000", order  # typed bare, stored in the one form


async def test_bad_phone_and_long_text_are_refused_clearly(centre: Running) -> None:
    resident = centre.cast.resident
    await resident.start()
    await resident.send("/request")
    await wait_text(resident, _("What kind of help do you need?"))
    await resident.tap(_("Other"))
    await wait_text(resident, _(DESCRIBE))
    await resident.skip_to_now()
    await resident.send("x" * 1001)
    refusal = await resident.next_message()
    assert refusal.text == "⚠️ " + _("That is too long; please keep it under {limit} characters.", limit=1000)


async def test_orders_command_and_language_switch(centre: Running) -> None:
    cast = centre.cast
    number, _card = await dispatched(cast)
    await cast.coordinator.skip_to_now()
    await cast.coordinator.send("/orders")
    listing = await cast.coordinator.next_message()
    assert f"#{number}" in (listing.text or "") and TEAM in (listing.text or "")
    await cast.resident.press(_(MENU_LANGUAGE))
    await wait_text(cast.resident, _("Choose your language:"))
    await cast.resident.tap("中文")
    await wait_text(cast.resident, "语言已设置为中文。")
    assert (await cast.resident.reply_keyboard()) == [["🆘 我要求助", "📋 我的求助"], ["🙋 加入志愿者"],
                                                      ["❓ 帮助", "🌐 语言", "⋯ 更多"]]  # 🔒 / 🗑 behind More


async def test_admin_appoints_a_coordinator_by_replying(centre: Running, sandbox: SandboxClient) -> None:
    cast = centre.cast
    newcomer = await sandbox.create_user("Nora", language_code="en")
    await newcomer.start()
    await cast.coordinators_group.join(newcomer)
    said = await newcomer.send("/help@sandbox_bot", chat_id=cast.coordinators_group.id)
    await cast.admin.send("/coordinator@sandbox_bot add", chat_id=cast.coordinators_group.id,
                          reply_to=said["message_id"])
    await wait_text(newcomer, _("You are now a coordinator. Tap 📥 Requests to dispatch to see open requests."))
    # Only an admin may do it.
    await cast.coordinator.send("/coordinator@sandbox_bot add", chat_id=cast.coordinators_group.id,
                                reply_to=said["message_id"])
    await wait_text(cast.coordinator, _("Only an administrator can do this."), chat_id=cast.coordinators_group.id)


async def test_unusable_input_gets_an_explanation(centre: Running) -> None:
    resident = centre.cast.resident
    await resident.start()
    await wait_text(resident, _("New request"))
    await resident.skip_to_now()
    await resident.send_file("sticker")
    assert (await resident.next_message()).text == "⚠️ " + _("I can read text messages, voice notes, photos and "
                                                            "shared contacts only.")
    await resident.send("/teleport")
    assert (await resident.next_message()).text == "⚠️ " + _("I do not know that command. Tap a button below, "
                                                            "or send /help.")


async def test_duty_and_the_talent_reserve(centre: Running) -> None:
    cast = centre.cast
    _vera, victor = cast.volunteers
    await victor.skip_to_now()
    await victor.send("/offduty")
    assert (await victor.next_message()).text == _("You are off duty: nobody will be asked to reach you until "
                                                   "you tap ✅ Take requests.")
    await cast.resident.start()
    await wait_text(cast.resident, _("New request"))
    await cast.resident.skip_to_now()
    await cast.resident.send("/onduty")
    assert (await cast.resident.next_message()).text == "⚠️ " + _(
        "Only approved volunteers can pause or take requests; tap 🙋 Become a volunteer to register.")
    await cast.resident.send("/find repair")
    assert (await cast.resident.next_message()).text == "⚠️ " + _("Only a coordinator can do this.")
    await cast.coordinator.skip_to_now()
    await cast.coordinator.send("/find repair")
    found = await cast.coordinator.next_message()
    lines = (found.text or "").splitlines()
    assert lines[0] == _("Volunteers for {skill}:", skill=_("Repair"))
    assert lines[1].startswith("Vera Li") and lines[1].endswith(_("on duty"))
    assert lines[2].startswith("Victor Li") and lines[2].endswith(_("off duty"))
    assert found.protect_content  # phone numbers inside
    await cast.coordinator.send(f"/find {_('Repair')}")  # the skill's name as the coordinator reads it (维修)
    assert ((await cast.coordinator.next_message()).text or "").splitlines() == lines
    await cast.coordinator.send("/find gardening")
    assert "⚠️" in ((await cast.coordinator.next_message()).text or "")
    await cast.coordinator.send("/find delivery")
    assert (await cast.coordinator.next_message()).text == _("No approved volunteer has the skill {skill}.",
                                                             skill=_("Delivery"))


async def test_a_roster_volunteer_joins_through_the_bot_already_approved(centre: Running, sandbox: SandboxClient,
                                                                          tmp_path: Path) -> None:
    cast = centre.cast
    deps = centre.app.bot_data.deps
    assert deps is not None
    wendy = await sandbox.create_user("Wendy", language_code="en", phone_number="+8613911112222")
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,手机号,志愿者编号,社区,服务队,技能\n王文迪,+8613911112222,VR20240001,阳光社区,repair,repair\n",
                      encoding="utf-8")
    report = await import_roster(deps.uow, roster, skills=deps.config.categories)
    assert (report.created, report.failed) == (1, 0)
    await cast.team_group.join(wendy)
    await register_volunteer(wendy, LANGUAGE, team=TEAM)
    await wait_text(wendy, _("You are already a member of team {team}.", team=TEAM))
    _number, card = await dispatched(cast)
    won = await wendy.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
    assert not won.show_alert, won
    async with deps.uow() as uow:
        members = [v for v in await uow.volunteers.of_user((await uow.users.by_telegram_id(wendy.id)).id)]
        assert [(v.registry_number, v.source, v.status) for v in members] == [("VR20240001", "roster", "approved")]
