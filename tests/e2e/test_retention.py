"""Retention end to end (docs/retention.md): a whole loop to close; the volunteer's details message
is edited to the redacted line with no buttons, the voice note (or photo) deleted, and the volunteer
told why — seen in the sandbox's transcript; then, the bot's clock moved past
``[privacy] contact_retention_days``, the housekeeping pass has erased the contact from the database."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.adapters.app import BotApplication
from bot.views.volunteer import REDACTED_DETAILS, WHY_FINISHED
from sandbox import SandboxClient, SandboxServer
from storage.models import Order
from tests.e2e.harness import (
    bot_running,
    cast_of,
    finish_and_rate,
    latest_of,
    make_settings,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)
from tests.support.clocks import JumpClock

DAYS = 30
ROOM = "1704室 RQZ"


async def order_row(application: BotApplication, number: int) -> Order:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        order = (await uow.session.scalars(select(Order).where(Order.id == number))).one()
        await uow.commit()
        return order


async def erased(application: BotApplication, number: int, timeout: float = 15.0) -> Order:
    """The order once the housekeeping pass erased its contact (waiting for the pass)."""
    deadline = time.monotonic() + timeout
    while True:
        order = await order_row(application, number)
        if order.contact_erased_at is not None or time.monotonic() > deadline:
            return order
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(("language", "medium"), [("zh", "voice"), ("en", "photo")])
async def test_the_contact_leaves_the_volunteers_chat_at_close_and_the_database_after_the_days(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str, medium: str) -> None:
    _ = tr(language)
    clock = JumpClock()
    cast = await cast_of(sandbox, language)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=language,
                             privacy={"contact_retention_days": DAYS},
                             housekeeping={"interval_minutes": 0.005, "start_delay_seconds": 0})
    async with bot_running(settings, "polling", clock=clock) as application:
        await set_up_centre(cast, language)
        number = await place_order(cast, language, detail=ROOM, voice=medium == "voice", photo=medium == "photo")
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                        chat_id=cast.coordinators_group.id)
        await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team="维修队"), chat_id=cast.coordinators_group.id)
        card = await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
        vera = cast.volunteers[0]
        await vera.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card.message_id)
        details = await wait_text(vera, "138 0000 0001")
        assert ROOM in (details.text or "") and details.buttons and details.protect_content
        media = await latest_of(vera, medium)

        await finish_and_rate(cast, language, vera, details, number, verdict=_("😊 Satisfied"))

        # The transcript: the details message edited to the redacted line, without buttons; the
        # voice note or photo deleted; and the volunteer told why.
        await wait_text(vera, _(WHY_FINISHED, number=number))
        redacted = _(REDACTED_DETAILS, number=number, category=_("Repair"))
        chat = await vera.wait_for(lambda chat: chat.message(details.message_id).html == redacted
                                   and chat.message(media.message_id).deleted)
        now = chat.message(details.message_id)
        assert now.buttons == [] and "138 0000 0001" not in (now.text or "") and ROOM not in (now.text or "")
        assert any("138 0000 0001" in str(version) for version in now.history)  # it did show the contact before
        deletions = await sandbox.calls("deleteMessage")
        assert [(call["chat_id"], call["status"]) for call in deletions] == [(vera.id, 200)]
        shown = [m for m in chat.messages if m.from_bot and not m.deleted]
        assert not any("138 0000 0001" in (m.text or "") or ROOM in (m.text or "") for m in shown)

        # The database keeps the contact until the days are over, then the housekeeping pass erases it.
        kept = await order_row(application, number)
        assert (kept.contact_phone, kept.address_detail, kept.contact_erased_at) == ("+8613800000001", ROOM, None)
        assert kept.volunteer_messages is None
        clock.advance(DAYS * 86_400 + 60)
        gone = await erased(application, number)
        assert (gone.contact_name, gone.contact_phone, gone.address_detail, gone.voice_file_id, gone.photo_file_id) \
            == ("", "", "", None, None)
        assert gone.contact_erased_at is not None and gone.status == "closed"
