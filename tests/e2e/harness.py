"""End-to-end harness: the real application, over real HTTP, against the sandbox, with people.

Pacing is scaled up on both sides (the sandbox still enforces its limits, the sender still keeps
under them) so a whole loop takes seconds; the sender's pacing at Telegram's real numbers is
proven in ``tests/outbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.adapters.app import BotApplication, build_application
from bot.adapters.runner import running
from bot.cli import migrate
from bot.i18n import I18n, Translate
from bot.settings import OutboxSettings, Settings, WebhookSettings
from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE
from sandbox import (
    FloodLimits,
    MessageView,
    SandboxClient,
    SandboxServer,
    SimGroup,
    SimUser,
)
from storage.clock import Clock
from tests.sandbox.tinybot import free_port
from tests.support.clocks import JumpClock

FAST_FLOOD = FloodLimits(private_per_second=50, private_burst=5, group_per_minute=1200, global_per_second=200)
FAST_OUTBOX = OutboxSettings(private_per_second=40, group_per_minute=1000, global_per_second=150,
                             poll_interval=0.2)
WEBHOOK_SECRET = "e2e-webhook-secret_1"
I18N = I18n()


def tr(language: str) -> Translate:
    return I18N.translator(language)


@dataclass
class Cast:
    """The people of one loop and the chats they share."""

    sandbox: SandboxClient
    admin: SimUser
    coordinator: SimUser
    resident: SimUser
    volunteers: list[SimUser]
    coordinators_group: SimGroup
    team_group: SimGroup
    extra: dict[str, Any] = field(default_factory=dict)


def make_settings(server: SandboxServer, database_url: str, *, admins: list[int],
                  coordinators_chat_id: int | None, **overrides: Any) -> Settings:
    return Settings(
        telegram={"token": server.token, "base_url": server.bot_api_url, "base_file_url": server.file_url},
        database={"url": database_url}, admins=admins, coordinators_chat_id=coordinators_chat_id,
        outbox=FAST_OUTBOX, **overrides,
    )


@contextlib.asynccontextmanager
async def bot_running(settings: Settings, mode: str, *, clock: Clock | None = None) -> AsyncIterator[BotApplication]:
    """The application from ``build_application``, migrated and running in ``mode`` (on ``clock``,
    by default a :class:`JumpClock` from :data:`FIXED_START`)."""
    await migrate(settings)
    application = build_application(settings, clock=clock or JumpClock())
    webhook = None
    if mode == "webhook":
        port = free_port()
        webhook = WebhookSettings(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/telegram",
                                  secret_token=WEBHOOK_SECRET)
    async with running(application, webhook=webhook):
        yield application


async def cast_of(sandbox: SandboxClient, language: str, *, resident_name: str = "Rita",
                  phone: str = "+8613800000001") -> Cast:
    code = "zh-hans" if language == "zh" else "en"
    admin = await sandbox.create_user("Admin", language_code=code)
    coordinator = await sandbox.create_user("Coco", language_code=code)
    resident = await sandbox.create_user(resident_name, language_code=code, phone_number=phone)
    volunteers = [await sandbox.create_user(name, language_code=code) for name in ("Vera", "Victor")]
    coordinators_group = await sandbox.create_group("Centre", creator=admin, members=[coordinator])
    team_group = await sandbox.create_group("Repair team", creator=coordinator, members=volunteers)
    return Cast(sandbox, admin, coordinator, resident, volunteers, coordinators_group, team_group)


async def reply_to(user: SimUser, text: str, *, chat_id: int | None = None, timeout: float = 10.0) -> MessageView:
    """Send ``text`` and return the bot's next message in that chat."""
    await user.skip_to_now(chat_id=chat_id)
    await user.send(text, chat_id=chat_id)
    return await user.next_message(chat_id=chat_id, timeout=timeout)


async def download(server: SandboxServer, message: MessageView, kind: str = "photo") -> bytes:
    """The bytes of the photo (largest size) or document the bot sent in ``message``, fetched the
    way a Telegram client does: getFile, then the file URL."""
    media = message.extra[kind]
    file_id = (media[-1] if isinstance(media, list) else media)["file_id"]
    async with httpx.AsyncClient() as client:
        found = (await client.get(f"{server.bot_api_url}{server.token}/getFile",
                                  params={"file_id": file_id})).json()["result"]
        return (await client.get(f"{server.file_url}{server.token}/{found['file_path']}")).content


async def latest_photo(user: SimUser, *, at_least: int = 1, timeout: float = 10.0) -> MessageView:
    """The newest photo the bot sent ``user`` (waiting until it has sent ``at_least``)."""
    return await latest_of(user, "photo", at_least=at_least, timeout=timeout)


async def latest_document(user: SimUser, *, timeout: float = 20.0) -> MessageView:
    """The newest document the bot sent ``user`` (waiting for one; files are made as they go out)."""
    return await latest_of(user, "document", timeout=timeout)


async def latest_of(user: SimUser, kind: str, *, at_least: int = 1, timeout: float = 10.0) -> MessageView:
    view = await user.wait_for(lambda chat: sum(m.kind == kind for m in chat.bot_messages) >= at_least,
                               timeout=timeout)
    return [m for m in view.bot_messages if m.kind == kind][-1]


def before(text: str, marker: str = "\x00") -> str:
    """The longest stretch of ``text`` without ``marker`` (a value only known when it is sent), as
    people read it (tags dropped)."""
    return max(re.sub(r"<[^>]+>", "", text).split(marker), key=len)


async def wait_text(user: SimUser, needle: str, *, chat_id: int | None = None, timeout: float = 10.0) -> MessageView:
    """Wait for a bot message containing ``needle`` in a chat (edits count)."""
    view = await user.wait_for(lambda chat: any(needle in (m.text or "") for m in chat.bot_messages),
                               chat_id=chat_id, timeout=timeout)
    return next(m for m in reversed(view.bot_messages) if needle in (m.text or ""))


@contextlib.asynccontextmanager
async def centre_running(server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str,
                         mode: str = "polling") -> AsyncIterator[tuple[Cast, BotApplication]]:
    """The usual cast (:func:`cast_of`) with the bot running and the centre set up
    (:func:`set_up_centre`): the coordinators' group, team 维修队 with its group and both volunteers."""
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language)
    async with bot_running(settings, mode) as application:
        await set_up_centre(cast, language)
        yield cast, application


async def set_up_centre(cast: Cast, language: str) -> None:
    """Admin appoints the coordinator, who creates a team, links its group and approves both volunteers."""
    _ = tr(language)
    await cast.admin.start()
    await cast.coordinator.start()
    await cast.coordinators_group.add_bot(cast.admin)
    await cast.admin.send(f"/coordinator add {cast.coordinator.id}")
    await wait_text(cast.coordinator, _("You are now a coordinator. Tap 📥 Requests to dispatch to see open requests."))
    await cast.coordinator.send("/team add repair 维修队 repair housekeeping")
    await wait_text(cast.coordinator, "/link repair")
    await cast.team_group.add_bot(cast.coordinator)
    await cast.coordinator.send("/link@sandbox_bot repair", chat_id=cast.team_group.id)
    await wait_text(cast.coordinator, "维修队", chat_id=cast.team_group.id)
    await asyncio.gather(*(join_team(cast, volunteer, language) for volunteer in cast.volunteers))


async def approve_directly(application: BotApplication, cast: Cast, language: str,
                           people: list[SimUser] | None = None) -> None:
    """``people`` (default: the cast's volunteers) have started the bot and are approved members of
    team ``repair``, straight through the repositories (registration through /join is proven in
    ``test_loop.py``)."""
    _ = tr(language)
    people = cast.volunteers if people is None else people
    await cast.sandbox.act(*({"type": "start", "user_id": p.id} for p in people))
    welcome = _("Hello {name}! This is the community volunteer service.\n"
                "Tap <b>New request</b> when you need help; a volunteer team will take it.").split("{name}")[0]
    for person in people:  # the bot has made their user rows, in their language
        await wait_text(person, welcome)
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        team = await uow.teams.by_code("repair")
        assert team is not None and team.chat_id == cast.team_group.id
        for person in people:
            user = await uow.users.ensure(person.id, person.first_name)
            row = await uow.volunteers.add(user.id, team.id, f"{person.first_name} Li", person.phone_number)
            assert await uow.volunteers.decide(row.id, True)
        await uow.commit()


async def join_team(cast: Cast, volunteer: SimUser, language: str, *, team: str = "维修队") -> None:
    """The volunteer registers with /join (the fewest taps) and the coordinator approves them."""
    _ = tr(language)
    await register_volunteer(volunteer, language, team=team)
    await wait_text(volunteer, _("Thank you! A coordinator will confirm your membership of team {team}.", team=team))
    needle = _("🙋 {name} asks to join team {team}.", name=f"{volunteer.first_name} Li", team=team)
    application = await wait_text(cast.coordinator, needle, chat_id=cast.coordinators_group.id)
    answer = await cast.sandbox.callback_answer(
        (await cast.coordinator.tap(_("Approve"), chat_id=cast.coordinators_group.id,
                                    message_id=application.message_id)).callback_query_id)
    assert answer.answered and not answer.show_alert, answer
    await wait_text(volunteer, _("Welcome to team {team}! You can now take its requests in the team group.",
                                 team=team))


async def register_volunteer(volunteer: SimUser, language: str, *, team: str | None = "维修队",
                             community: str = "阳光社区", link: str | None = None, kind: str = "Resident volunteer",
                             business: str | None = None) -> None:
    """/join with the fewest taps: name "<first name> Li", own phone, a typed community, skill Repair,
    retired, no hobbies, ``kind`` (a msgid; with ``business``, its name), weekends, no registry
    number, then ``team`` (None: the team question is not asked, a join link chose the team).
    ``link``: start through a join link's payload (``team_repair``) instead of /join."""
    _ = tr(language)
    await volunteer.skip_to_now()
    if link is not None:
        await volunteer.start(link)
    else:
        await volunteer.start()
        await volunteer.send("/join")
    await wait_text(volunteer, _("Welcome! What is your full name?"))
    await volunteer.send(f"{volunteer.first_name} Li")
    await wait_text(volunteer, _("Please share your phone number with the button below."))
    await volunteer.press(_(SHARE_PHONE))
    await wait_text(volunteer, _("Which community (residential compound) are you in?"))
    await volunteer.send(community)
    await pick_and_finish(volunteer, _("Which services can you offer? Tap every one that applies, then Done."),
                          [_("Repair")], _("Done ➡️"))
    await tap_on(volunteer, _("What is your occupation?"), _("Retired"))
    await tap_on(volunteer, _("What are your hobbies? Tap every one that applies, then Done (or just Done)."),
                 _("Done ➡️"))
    await tap_on(volunteer, _("Which of these describes you?"), _(kind))
    if business is not None:
        await wait_text(volunteer, _("What is the name of your business? You will be its contact person."))
        await volunteer.send(business)
    await pick_and_finish(volunteer, _("When can you usually help? Tap every one that applies, then Done."),
                          [_("Weekends")], _("Done ➡️"))
    await tap_on(volunteer, _("If you have a national volunteer registry number, type it; otherwise tap Skip."),
                 _("Skip"))
    if team is not None:
        await tap_on(volunteer, _("Which team would you like to join?"), team)


async def tap_on(user: SimUser, question: str, label: str) -> MessageView:
    """Wait for the bot's message ``question`` and tap its button ``label``; returns the message."""
    message = await wait_text(user, question)
    await user.tap(label, message_id=message.message_id)
    return message


async def pick_and_finish(user: SimUser, question: str, labels: list[str], finish: str) -> MessageView:
    """A multi-select question: tick each of ``labels`` (waiting for its ✅), then tap ``finish``."""
    message = await wait_text(user, question)
    for label in labels:
        await user.tap(label, message_id=message.message_id)
        await user.wait_for(lambda chat, label=label: "✅ " + label in chat.message(message.message_id).button_texts)
    await user.tap(finish, message_id=message.message_id)
    return message


# The request dialog's questions and the summary's first confirm button (msgids).
DESCRIBE = ("Please tell us what you need help with. You can type it, or hold 🎤 and speak; "
            "a photo helps too.")
COMMUNITY_Q = "Which community do you live in? (e.g. Sunshine Community)"
BUILDING_Q = "Which building and unit do you live in? (e.g. Building 3, Unit 2)"
DETAIL_Q = "What is your door number? (e.g. Room 402)"
CONTACT_Q = "Please leave a phone number so the volunteer can reach you: tap «{button}» below, or type the number."
CONFIRM_TODAY = "✅ Today"
WHAT_HAPPENED = "What happened? Type it, or hold 🎤 and speak."  # an emergency's description question


def contact_question(language: str) -> str:
    """The phone question as the resident reads it (it names the share button)."""
    _ = tr(language)
    return _(CONTACT_Q, button=_(SHARE_PHONE)).replace("&lt;", "<").replace("&gt;", ">")


async def place_order(cast: Cast, language: str, *, description: str = "厨房水管漏水 kitchen pipe leaks",
                      voice: bool = False, photo: bool = False, community: str = "阳光小区 Sunshine",
                      building: str = "3栋2单元", detail: str = "502室 ring twice", category: str = "Repair") -> int:
    """The resident goes through the whole request dialog (``category``: a category's label msgid)
    and confirms for today; returns the order number."""
    _ = tr(language)
    resident = cast.resident
    summary = await fill_request(resident, language, description=description, voice=voice, photo=photo,
                                 community=community, building=building, detail=detail, category=category)
    answer = await resident.tap_and_read_answer(_(CONFIRM_TODAY), message_id=summary.message_id)
    assert answer.answered and not answer.show_alert, answer
    return await order_number(resident, language)


async def place_emergency(cast: Cast, language: str, *, description: str = "老人摔倒了 fell down",
                          where: str = "阳光社区3号楼402室") -> int:
    """The resident asks for emergency help: what happened, where, the phone, then "Send now" (no
    time is asked: it is now); returns the order number."""
    _ = tr(language)
    resident = cast.resident
    await begin_request(resident, language, category="Emergency")
    await resident.skip_to_now()
    await resident.send(description)
    asked = await next_of(resident, _("Where are you? (e.g. Sunshine Community, Building 3, Room 402)"),
                          _("🚨 Send now"), contact_question(language))
    if _("🚨 Send now") not in asked.button_texts and contact_question(language) not in (asked.text or ""):
        await resident.skip_to_now()
        await resident.send(where)
        asked = await next_of(resident, _("🚨 Send now"), contact_question(language))
    if _("🚨 Send now") not in asked.button_texts:
        await resident.skip_to_now()
        await resident.press(_(SHARE_PHONE))
        asked = await next_of(resident, _("🚨 Send now"))
    answer = await resident.tap_and_read_answer(_("🚨 Send now"), message_id=asked.message_id)
    assert answer.answered and not answer.show_alert, answer
    return await order_number(resident, language)


async def order_number(resident: SimUser, language: str) -> int:
    """The number in the bot's "Thank you! Your request number is #…" message (waiting for it)."""
    _ = tr(language)
    prefix = _("Thank you! Your request number is <b>#{number}</b>. We will message you at every step.").split("<b>")[0]
    received = await wait_text(resident, prefix)
    match = re.search(r"#(\d+)", received.text or "")
    assert match, received
    return int(match.group(1))


async def begin_request(resident: SimUser, language: str, *, category: str = "Repair") -> None:
    """The resident starts the bot, opens a new request for a repair (``category``, a msgid) and is
    asked to describe it."""
    _ = tr(language)
    await resident.start()
    await wait_text(resident, _("New request"))
    await resident.skip_to_now()
    await resident.press(_(MENU_NEW_REQUEST))
    asked = await next_of(resident, _("What kind of help do you need?"))  # not an earlier request's question
    await resident.tap(_(category), message_id=asked.message_id)
    await next_of(resident, _(DESCRIBE), _(WHAT_HAPPENED))


async def fill_request(resident: SimUser, language: str, *, description: str = "厨房水管漏水 kitchen pipe leaks",
                       voice: bool = False, photo: bool = False, community: str = "阳光小区 Sunshine",
                       building: str = "3栋2单元", detail: str = "502室 ring twice",
                       category: str = "Repair") -> MessageView:
    """The resident answers every question of a new request (the description typed, or a voice
    note, or a photo with it as the caption); returns the summary (with the confirm buttons). A
    resident who asked before gets the summary at once: with another address given here, they tap
    "Another address" and answer the address questions."""
    _ = tr(language)
    await begin_request(resident, language, category=category)
    await resident.skip_to_now()
    if voice:
        await resident.send_voice(b"OggS-leaking-pipe", duration=6)
    elif photo:
        await resident.send_photo(b"\xff\xd8leaking-pipe", caption=description)
    else:
        await resident.send(description)
    asked = await next_of(resident, _(COMMUNITY_Q), _(CONFIRM_TODAY))
    if _(CONFIRM_TODAY) in asked.button_texts:  # remembered
        if building in (asked.text or "") and detail in (asked.text or ""):
            return asked
        await resident.skip_to_now()
        await resident.tap(_("📍 Another address"), message_id=asked.message_id)
        await wait_text(resident, _(COMMUNITY_Q))
    await resident.send(community)
    await wait_text(resident, _(BUILDING_Q))
    await resident.send(building)
    await wait_text(resident, _(DETAIL_Q))
    await resident.skip_to_now()
    await resident.send(detail)
    asked = await next_of(resident, contact_question(language), _(CONFIRM_TODAY))
    if _(CONFIRM_TODAY) not in asked.button_texts:
        await resident.skip_to_now()
        await resident.press(_(SHARE_PHONE))
        asked = await next_of(resident, _(CONFIRM_TODAY))
    assert resident.phone_number[-4:] in (asked.text or "") and building in (asked.text or ""), asked.text
    return asked


async def next_of(user: SimUser, *needles: str, timeout: float = 10.0) -> MessageView:
    """The bot's first message after the last one read (see ``skip_to_now``) that contains one of
    ``needles`` in its text or its buttons."""
    while True:
        message = await user.next_message(timeout=timeout)
        if any(n in (message.text or "") or n in message.button_texts for n in needles):
            return message


async def outbox_drained(application: BotApplication, timeout: float = 10.0) -> None:
    """Wait until the outbox has nothing pending or in flight."""
    deps = application.bot_data.deps
    assert deps is not None
    deadline = time.monotonic() + timeout
    while True:
        async with deps.uow() as uow:
            left = await uow.outbox.pending_count()
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{left} outbox row(s) still unsent after {timeout}s")
        await asyncio.sleep(0.05)


async def accepted_order(cast: Cast, language: str) -> tuple[int, SimUser, MessageView]:
    """A request placed by the resident, dispatched to 维修队 by the coordinator and accepted by the
    first volunteer: its number, the volunteer, and the private message with the resident's details."""
    _ = tr(language)
    number = await place_order(cast, language)
    await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
    await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
    card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
    volunteer = cast.volunteers[0]
    await volunteer.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
    return number, volunteer, await wait_text(volunteer, "138 0000 0001")  # the resident's phone, without +86


async def finish_and_rate(cast: Cast, language: str, volunteer: SimUser, details: MessageView, number: int, *,
                          verdict: str) -> None:
    """The assigned volunteer goes on the way, finishes (2 hours), and the resident taps ``verdict``."""
    _ = tr(language)
    name = volunteer.first_name
    await volunteer.tap(_("🚶 On my way"), message_id=details.message_id)
    await wait_text(cast.resident, _("{volunteer} is on the way for request #{number}.", volunteer=name, number=number))
    await volunteer.tap(_("✔️ Done"))
    await wait_text(volunteer, _("Thank you! How many hours did request #{number} take? Tap or type a number.",
                                 number=number))
    await volunteer.tap("2")
    await wait_text(volunteer, _("Recorded {hours} h for request #{number}. Thank you!", hours=2.0, number=number))
    await wait_text(cast.resident, _("{volunteer} has finished request #{number}. How did it go?",
                                     volunteer=name, number=number))
    await cast.resident.tap(verdict)
