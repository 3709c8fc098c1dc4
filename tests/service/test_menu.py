"""The private keyboard as the services keep it (sqlite, and postgresql with TEST_DATABASE_URL):
it changes with an approval, an appointment and going on or off duty; /help and More follow the
roles; my service hours; and text typed outside a dialog becomes a request's description after
one tap, kept in the dialog row and never in a button."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import Conflict, NotAllowed
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import buildings, dialog_rules, dialogs, hours, offer, people, request
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import OutboxMessage
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100)
COCO, VERA, BOB = 6001, 6002, 6003


@contextlib.asynccontextmanager
async def calling(uow_factory: UowFactory, telegram_id: int, language: str = "en") -> AsyncIterator[ServiceContext]:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", language)
        yield service_context(uow, user, i18n=I18N, config=CONFIG)


async def act(uow_factory: UowFactory, telegram_id: int, service: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    async with calling(uow_factory, telegram_id) as ctx:
        return await service(ctx, *args)


async def last_message(uow_factory: UowFactory, chat_id: int) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        return dict(row.payload)


def keyboard(payload: dict[str, Any]) -> list[str]:
    return [b["text"] for row in payload["reply_markup"]["keyboard"] for b in row]


async def set_up(uow_factory: UowFactory) -> int:
    """A coordinator, a team ``repair`` and Vera's pending membership of it (its id)."""
    async with uow_factory() as uow:
        coco = await uow.users.ensure(COCO, "Coco", "en")
        coco.is_coordinator = True
        vera = await uow.users.ensure(VERA, "Vera", "en")
        team = await uow.teams.add("repair", "Fixers", ["repair"])
        membership = await uow.volunteers.add(vera.id, team.id, "Vera Li", "13800138000")
        await uow.commit()
        return membership.id


async def test_the_keyboard_follows_approval_and_duty(uow_factory: UowFactory) -> None:
    membership = await set_up(uow_factory)
    await act(uow_factory, VERA, people.welcome)
    assert "🙋 Become a volunteer" in keyboard(await last_message(uow_factory, VERA))
    await act(uow_factory, COCO, people.decide_volunteer, membership, True)
    welcome = await last_message(uow_factory, VERA)
    assert welcome["text"].startswith("Welcome to team Fixers!")
    assert "⏸ Pause requests" in keyboard(welcome) and "🙋 Become a volunteer" not in keyboard(welcome)
    await act(uow_factory, VERA, people.set_duty, False)
    paused = keyboard(await last_message(uow_factory, VERA))
    assert "✅ Take requests" in paused and "⏸ Pause requests" not in paused
    await act(uow_factory, VERA, people.set_duty, True)
    assert "⏸ Pause requests" in keyboard(await last_message(uow_factory, VERA))


async def test_an_appointment_and_a_standing_down_send_the_new_keyboard(uow_factory: UowFactory) -> None:
    await set_up(uow_factory)
    async with uow_factory() as uow:
        await uow.buildings.add("b3", "Sunny Garden", "Building 3")
        await uow.commit()
    await act(uow_factory, COCO, buildings.appoint_leader, "b3", VERA, True)
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == VERA)
                                          .order_by(OutboxMessage.id))).all()
        with_keyboard = [r.payload for r in rows if "keyboard" in (r.payload.get("reply_markup") or {})]
    assert "🏠 Help a neighbour" in keyboard(with_keyboard[-1])
    await act(uow_factory, COCO, buildings.appoint_leader, "b3", VERA, False)
    stood_down = await last_message(uow_factory, VERA)
    assert stood_down["text"].startswith("Your buttons below have been updated.")
    assert "🏠 Help a neighbour" not in keyboard(stood_down)


async def test_help_and_more_follow_the_roles(uow_factory: UowFactory) -> None:
    membership = await set_up(uow_factory)
    await act(uow_factory, VERA, people.show_help)
    resident_help = (await last_message(uow_factory, VERA))["text"]
    await act(uow_factory, VERA, people.more)  # a resident's More holds only their own data's buttons
    assert [b["callback_data"] for row in (await last_message(uow_factory, VERA))["reply_markup"]["inline_keyboard"]
            for b in row] == ["more:mydata", "more:forget"]
    await act(uow_factory, COCO, people.decide_volunteer, membership, True)
    await act(uow_factory, VERA, people.show_help)
    volunteer_help = (await last_message(uow_factory, VERA))["text"]
    assert "Become a volunteer" in resident_help and "Pause requests" not in resident_help
    assert "Pause requests" in volunteer_help and "Become a volunteer" not in volunteer_help
    await act(uow_factory, VERA, people.more)
    more = await last_message(uow_factory, VERA)
    assert [b["callback_data"] for row in more["reply_markup"]["inline_keyboard"] for b in row] == [
        "more:profile", "more:join", "more:mydata", "more:forget"]
    await act(uow_factory, COCO, people.more)
    centre = await last_message(uow_factory, COCO)
    assert "more:find" in [b["callback_data"] for row in centre["reply_markup"]["inline_keyboard"] for b in row]


async def test_my_service_hours_by_month_year_and_in_total(uow_factory: UowFactory, clock: FakeClock) -> None:
    membership = await set_up(uow_factory)
    await act(uow_factory, COCO, people.decide_volunteer, membership, True)
    async with uow_factory() as uow:
        vera = await uow.users.by_telegram_id(VERA)
        assert vera is not None
        for days_back, minutes in ((0, 120), (20, 180), (400, 240)):
            await uow.ledger.add(vera.id, "order", minutes, clock.now - dt.timedelta(days=days_back))
        await uow.commit()
    await act(uow_factory, VERA, hours.summary)
    text = (await last_message(uow_factory, VERA))["text"]
    # the clock is 15 January 2026: 20 days back is December 2025, 400 days back is 2024
    assert "This month: 2 h (requests 2 h" in text and "This year: 2 h" in text and "In total: 9 h" in text
    with pytest.raises(NotAllowed):
        await act(uow_factory, BOB, hours.summary)


async def test_text_outside_a_dialog_becomes_the_description_after_one_tap(uow_factory: UowFactory) -> None:
    async with calling(uow_factory, BOB) as ctx:
        assert not await dialogs.handle_input(ctx, Input(text="The kitchen tap leaks"))
        await offer.offer(ctx, Input(text="The kitchen tap leaks"))
    offered = await last_message(uow_factory, BOB)
    assert "The kitchen tap leaks" in offered["text"]
    assert [b["callback_data"] for row in offered["reply_markup"]["inline_keyboard"] for b in row] == [
        "offer", "nooffer"]
    async with calling(uow_factory, BOB) as ctx:  # the offer is a question a rating may replace
        assert await dialog_rules.ask_follow_up(ctx, "comment", "comment", {"order_id": 1})
        await ctx.uow.rollback()
    await act(uow_factory, BOB, offer.accept)
    async with calling(uow_factory, BOB) as ctx:
        draft = await ctx.uow.dialogs.get(ctx.user.id)
        assert draft is not None and draft.step == "category"
        number = draft.data["draft"]
    await act(uow_factory, BOB, request.choose_category, number, "repair")
    async with calling(uow_factory, BOB) as ctx:
        dialog = await ctx.uow.dialogs.get(ctx.user.id)
        assert dialog is not None and dialog.flow == request.FLOW
        assert dialog.step == "community" and dialog.data["description"] == "The kitchen tap leaks"
    with pytest.raises(Conflict):  # a second tap of the old offer: the request is open, nothing jumps
        await act(uow_factory, BOB, offer.accept)


async def test_a_voice_note_outside_a_dialog_and_saying_no(uow_factory: UowFactory) -> None:
    await act(uow_factory, BOB, offer.offer, Input(voice_file_id="voice-1"))
    assert "voice note" in (await last_message(uow_factory, BOB))["text"]
    await act(uow_factory, BOB, offer.accept)
    async with calling(uow_factory, BOB) as ctx:
        dialog = await ctx.uow.dialogs.get(ctx.user.id)
        assert dialog is not None and dialog.data["voice_file_id"] == "voice-1"
    await act(uow_factory, BOB, offer.offer, Input(text="hello"))
    await act(uow_factory, BOB, offer.decline)
    assert (await last_message(uow_factory, BOB))["text"].startswith("All right.")
    async with calling(uow_factory, BOB) as ctx:
        assert await ctx.uow.dialogs.get(ctx.user.id) is None
