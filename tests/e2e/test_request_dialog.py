"""The resident's request dialog end to end (issue 12, items 1, 3 and 5), in Chinese and English:

* the goal of item 1, counted: a first request through a building's link takes at most 4 taps and
  1 message (besides the room, which the link does not tell), a later one at most 3 taps and 1
  message ("same as last time" is applied: the address and the phone's last 4 digits are shown);
* stale buttons at every step (an earlier draft's, another step's, an older summary's) are each
  answered, and the dialog goes on exactly where it was; a confirmed request has every field;
* an emergency says first to call 120/110, asks only what happened, where and a phone, and is
  placed as urgent, now.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.adapters.app import BotApplication
from bot.settings import Settings
from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE
from sandbox import MessageView, SandboxClient, SandboxServer, SimUser
from storage.models import Order
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DESCRIBE,
    DETAIL_Q,
    bot_running,
    contact_question,
    make_settings,
    next_of,
    order_number,
    tr,
    wait_text,
)
from tests.support.dbfixtures import in_both_languages

OUT_OF_DATE = "This button is out of date."
NOT_OPEN = "This request is no longer open. Tap New request to start again."


@dataclass
class Counted:
    """A resident whose taps (inline buttons, reply-keyboard buttons, contact shares) and messages
    (texts, voice notes, photos) are counted; ``address`` messages answer a question a building
    link could not (the room), counted apart."""

    person: SimUser
    language: str
    taps: int = 0
    messages: int = 0
    address: int = 0

    async def press(self, label: str) -> None:
        self.taps += 1
        await self.person.skip_to_now()
        await self.person.press(tr(self.language)(label))

    async def tap(self, label: str, message: MessageView) -> None:
        self.taps += 1
        await self.person.skip_to_now()
        answer = await self.person.tap_and_read_answer(tr(self.language)(label), message_id=message.message_id)
        assert answer.answered and not answer.show_alert, answer

    async def say(self, text: str, *, address: bool = False) -> None:
        self.address += address
        self.messages += not address
        await self.person.skip_to_now()
        await self.person.send(text)

    async def speak(self) -> None:
        self.messages += 1
        await self.person.skip_to_now()
        await self.person.send_voice(b"OggS-help", duration=4)

    async def asked(self, *needles: str) -> MessageView:
        """The next message holding one of ``needles`` (msgids, or plain text)."""
        _ = tr(self.language)
        return await next_of(self.person, *(_(needle) for needle in needles))


async def resident_of(sandbox: SandboxClient, name: str, phone: str, language: str) -> SimUser:
    """A resident with a phone number, speaking ``language``."""
    return await sandbox.create_user(name, language_code="zh-hans" if language == "zh" else "en", phone_number=phone)


def no_centre(server: SandboxServer, database_url: str, language: str) -> Settings:
    """A bot with no admin and no coordinators' chat: residents alone."""
    return make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language=language)


async def orders_of(application: BotApplication) -> list[Order]:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        found = list((await uow.session.scalars(select(Order).order_by(Order.id))).all())
        uow.session.expunge_all()
        return found


async def add_building(application: BotApplication) -> None:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        await uow.buildings.add("dh_3", "东湖社区", "3号楼")
        await uow.commit()


@in_both_languages
async def test_a_first_request_by_a_building_link_and_a_second_one_in_few_taps(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    person = await resident_of(sandbox, "Gran", "+8613800004321", language)
    settings = no_centre(server, database_url, language)
    async with bot_running(settings, "polling") as application:
        await add_building(application)
        await person.start("b_dh_3")  # arriving through the building's link (its QR code on the door)
        await wait_text(person, _("Welcome, neighbour of {building} ({community})!", building="3号楼",
                                  community="东湖社区"))
        await wait_text(person, _("New request"))  # the greeting with the menu

        first = Counted(person, language)
        await first.press(MENU_NEW_REQUEST)
        await first.tap("Repair", await first.asked("What kind of help do you need?"))
        await first.asked(DESCRIBE)
        await first.say("厨房水管漏水 the kitchen pipe leaks")
        await first.asked(DETAIL_Q)  # the link told the community and the building
        await first.say("402室", address=True)
        await first.asked(contact_question(language))
        await first.press(SHARE_PHONE)
        summary = await first.asked(CONFIRM_TODAY)
        text = summary.text or ""
        assert "东湖社区 3号楼 402室" in text and "4321" in text and "+86" not in text, text
        await first.tap(CONFIRM_TODAY, summary)
        await order_number(person, language)
        assert (first.taps, first.messages, first.address) == (4, 1, 1), first

        second = Counted(person, language)
        await second.press(MENU_NEW_REQUEST)
        await second.tap("Repair", await second.asked("What kind of help do you need?"))
        await second.asked(DESCRIBE)
        await second.speak()
        summary = await second.asked(CONFIRM_TODAY)  # same as last time, at once
        text = summary.text or ""
        assert "东湖社区 3号楼 402室" in text and "4321" in text and "+86" not in text, text
        assert _("📍 Another address") in summary.button_texts
        await second.tap("✅ Tomorrow", summary)
        await order_number(person, language)
        assert (second.taps, second.messages, second.address) == (3, 1, 0), second

        placed = await orders_of(application)
        assert [(o.community, o.building, o.address_detail, o.contact_phone, o.urgent) for o in placed] == \
            [("东湖社区", "3号楼", "402室", "+8613800004321", False)] * 2
        assert placed[0].description and placed[1].voice_file_id and placed[0].when_text < placed[1].when_text


@in_both_languages
async def test_stale_buttons_at_every_step_are_answered_and_never_jump_the_dialog(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    rita = await resident_of(sandbox, "Rita", "+8613800000001", language)
    settings = no_centre(server, database_url, language)

    async def stale(label: str, message: MessageView, refusal: str = OUT_OF_DATE) -> None:
        """A tap on an old button is answered (kindly refused) and says nothing else."""
        await rita.skip_to_now()
        answer = await rita.tap_and_read_answer(_(label), message_id=message.message_id)
        assert answer.answered and answer.text == _(refusal), (label, answer)

    async def then(text: str, question: str) -> MessageView:
        """Send ``text``; the very next message is ``question`` (the dialog did not move meanwhile)."""
        await rita.skip_to_now()
        await rita.send(text)
        asked = await rita.next_message()
        assert question in (asked.text or "") or question in asked.button_texts, (question, asked.text)
        return asked

    async with bot_running(settings, "polling") as application:
        await rita.start()
        await wait_text(rita, _("New request"))
        # Draft 1, up to its edit menu: its buttons will be stale.
        await rita.press(_(MENU_NEW_REQUEST))
        old_category = await wait_text(rita, _("What kind of help do you need?"))
        await rita.tap(_("Repair"), message_id=old_category.message_id)
        await wait_text(rita, _(DESCRIBE))
        await then("漏水 a leak", _(COMMUNITY_Q))
        await then("阳光社区", _(BUILDING_Q))
        await then("3号楼2单元", _(DETAIL_Q))
        await then("402室", contact_question(language))
        await rita.skip_to_now()
        await rita.press(_(SHARE_PHONE))
        old_summary = await next_of(rita, _(CONFIRM_TODAY))
        await rita.tap(_("✏️ Edit"), message_id=old_summary.message_id)
        old_edit = await wait_text(rita, _("What would you like to change?"))

        # Draft 2: at every step, every stale button is answered and changes nothing.
        await rita.skip_to_now()
        await rita.send("/request")  # the dialog put the menu away; the command starts again too
        category = await next_of(rita, _("What kind of help do you need?"))
        for label, message in (("Repair", old_category), (CONFIRM_TODAY, old_summary), ("Your community", old_edit),
                               ("Cancel", old_category)):
            await stale(label, message)
        await then("hello", _("Please tap one of the buttons below."))  # typed at a button step: asked again
        assert _("Repair") in (await rita.next_message()).button_texts
        await rita.skip_to_now()
        await rita.tap(_("Repair"), message_id=category.message_id)
        await next_of(rita, _(DESCRIBE))
        for label, message in (("Delivery", category), ("✅ Tomorrow", old_summary), ("Door number", old_edit)):
            await stale(label, message)  # the historic bug: an old "Tomorrow" during the description
        await then("灯坏了 the light is broken", _(COMMUNITY_Q))
        for label, message in (("Cancel", old_category), ("🕒 Another time", old_summary)):
            await stale(label, message)
        await then("东湖社区", _(BUILDING_Q))
        await stale("Repair", category)
        await then("5号楼1单元", _(DETAIL_Q))
        await then("101室", contact_question(language))
        await stale(CONFIRM_TODAY, old_summary)
        await rita.skip_to_now()
        await rita.press(_(SHARE_PHONE))
        summary = await next_of(rita, _(CONFIRM_TODAY))
        for label, message in ((CONFIRM_TODAY, old_summary), ("Phone", old_edit), ("Repair", category)):
            await stale(label, message)
        await rita.skip_to_now()
        await rita.tap(_("✏️ Edit"), message_id=summary.message_id)
        edit = await next_of(rita, _("What would you like to change?"))
        await stale(CONFIRM_TODAY, summary)  # this draft's, but the dialog is at the edit menu
        await rita.skip_to_now()
        await rita.tap(_("Door number"), message_id=edit.message_id)
        await next_of(rita, _(DETAIL_Q))
        await stale("Phone", edit)
        newest = await then("102室", _(CONFIRM_TODAY))
        assert "102室" in (newest.text or "")
        # The earlier summary of this same draft, at the summary step: applied, with the newest answers.
        answer = await rita.tap_and_read_answer(_(CONFIRM_TODAY), message_id=summary.message_id)
        assert answer.answered and not answer.show_alert, answer
        await order_number(rita, language)
        await stale(CONFIRM_TODAY, newest, NOT_OPEN)  # placed already: once only

        [order] = await orders_of(application)
        assert (order.category, order.description, order.community, order.building, order.address_detail,
                order.contact_phone) == ("repair", "灯坏了 the light is broken", "东湖社区", "5号楼1单元", "102室",
                                         "+8613800000001")


@in_both_languages
async def test_an_emergency_asks_only_what_happened_where_and_a_phone(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str) -> None:
    _ = tr(language)
    person = await resident_of(sandbox, "Wang", "+8613900001234", language)
    settings = no_centre(server, database_url, language)
    async with bot_running(settings, "polling") as application:
        await person.start()
        await wait_text(person, _("New request"))
        resident = Counted(person, language)
        await resident.press(MENU_NEW_REQUEST)
        await resident.tap("Emergency", await resident.asked("What kind of help do you need?"))
        first = await person.next_message()
        assert first.text == _("🚨 If a life is at risk, call 120 (ambulance) or 110 (police) first!"), first.text
        assert (await person.next_message()).text == _("What happened? Type it, or hold 🎤 and speak.")
        await resident.speak()
        await resident.asked("Where are you? (e.g. Sunshine Community, Building 3, Room 402)")
        await resident.say("阳光社区3号楼402室")
        await resident.asked(contact_question(language))
        await resident.press(SHARE_PHONE)
        summary = await resident.asked("🚨 Send now")
        assert summary.button_texts[0] == _("🚨 Send now") and _(CONFIRM_TODAY) not in summary.button_texts
        assert _("When should the volunteer come?") not in (summary.text or "")
        await resident.tap("🚨 Send now", summary)
        await order_number(person, language)
        assert (resident.taps, resident.messages) == (4, 2), resident

        [order] = await orders_of(application)
        assert order.urgent and order.category == "emergency" and order.voice_file_id
        assert (order.address_detail, order.contact_phone) == ("阳光社区3号楼402室", "+8613900001234")
        assert order.when_text and order.appointment_at is None
