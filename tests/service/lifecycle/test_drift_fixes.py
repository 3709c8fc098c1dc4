"""The two moves that used to skip or re-implement follow-ups, through the real services and the
real sweep on each database (no Telegram, FakeClock): the rating chase's "no response" close
cancels the order's open schedule rows and says so on the card; a lease expiry gives the order
back exactly as a release does, apart from what the volunteer is told and the audit name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import I18n
from bot.services import centre, claim, dispatch, timetable
from bot.services.context import ServiceConfig
from bot.services.schedule import rules
from bot.services.schedule.sweep import Sweeper
from bot.services.wiring import service_context
from bot.settings import Settings
from storage.models import Order, OrderEvent, OutboxMessage, ScheduledItem, Volunteer
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock, UowFactory

TEAM_CHAT, CENTRE = -500, -100
COORDINATOR, VOLUNTEER, RESIDENT = 11, 12, 13
I18N = I18n()


def settings(**reminders: Any) -> Settings:
    return Settings(telegram={"token": "1:x"}, coordinators_chat_id=CENTRE, default_language="en",
                    reminders=reminders)


@dataclass
class Loop:
    uow_factory: UowFactory
    clock: FakeClock
    config: ServiceConfig
    engine: AsyncEngine

    async def call(self, telegram_id: int, action: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        async with self.uow_factory() as uow:
            user = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
            return await action(service_context(uow, user, i18n=I18N, config=self.config), *args)

    async def accepted(self) -> int:
        """A request placed (the way ``request.confirm`` stores it), centre card and all, dispatched and taken."""
        async with self.uow_factory() as uow:
            resident = await uow.users.ensure(RESIDENT, "Rita", "en")
            order = await uow.orders.add(resident_id=resident.id, status="new", category="repair",
                                         description="leak", community="东湖", when_text="today",
                                         contact_name="Rita", contact_phone="+8613800000001")
            await centre.announce(service_context(uow, resident, i18n=I18N, config=self.config),
                                  order, "created")
            await uow.commit()
        await self.call(COORDINATOR, dispatch.dispatch, order.id, "repair")
        await self.call(VOLUNTEER, claim.accept, order.id, TEAM_CHAT)
        return order.id

    async def sweep_after(self, minutes: float, **reminders: Any) -> None:
        """Sweep ``minutes`` later (with ``reminders`` settings: an operator changed them meanwhile)."""
        self.clock.advance(minutes * 60)
        await Sweeper(make_deps(settings(**reminders), self.engine, self.clock), rules.HANDLERS).sweep()

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.uow_factory() as uow:
            found = list(await uow.session.scalars(select(model).where(*where).order_by(model.id)))
            uow.session.expunge_all()
            return found


@pytest.fixture
async def loop(engine: AsyncEngine, clock: FakeClock, uow_factory: UowFactory) -> Loop:
    async with uow_factory() as uow:
        coordinator = await uow.users.ensure(COORDINATOR, "Coco", "en")
        coordinator.is_coordinator = True
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, TEAM_CHAT)
        volunteer = await uow.users.ensure(VOLUNTEER, "Vera", "en")
        uow.session.add(Volunteer(user_id=volunteer.id, team_id=team.id, name="Vera", phone="+861",
                                  status="approved", created_at=uow.now()))
        await uow.commit()
    return Loop(uow_factory, clock, make_deps(settings(), engine, clock).config, engine)


async def test_no_response_cancels_the_orders_open_schedule_rows_and_says_so_on_the_card(loop: Loop) -> None:
    number = await loop.accepted()
    await loop.call(VOLUNTEER, claim.done, number)  # the chase: reminders at 24 h and 72 h, closed at 168 h
    await loop.sweep_after(24 * 60)
    # The chase is shortened to one reminder: the 72-hour step is now its last, the 168-hour one is left over.
    await loop.sweep_after(48 * 60, rating_reminder_hours=[24])
    order = (await loop.rows(Order, Order.id == number))[0]
    assert (order.status, order.no_response) == ("closed", True)
    chase = [(i.step, i.state) for i in await loop.rows(ScheduledItem, ScheduledItem.order_id == number)
             if i.kind == timetable.RATING]
    assert chase == [(1, "done"), (2, "done"), (3, "cancelled")]
    card_edits = await loop.rows(OutboxMessage, OutboxMessage.target_id == order.card_outbox_id)
    assert card_edits[-1].payload["text"].endswith("Status: done, closed without a rating")
    events = [(e.event, e.actor_id) for e in await loop.rows(OrderEvent, OrderEvent.order_id == number)]
    assert events[-1] == ("no_response", None)


async def given_back(loop: Loop, number: int, give_back: Callable[[], Awaitable[None]]) -> dict[str, Any]:
    """What giving the order back changed: the team card's edit, the centre card's edit, what the
    resident and the volunteer were told, the audit name and the schedule."""
    last = max([row.id for row in await loop.rows(OutboxMessage)])
    await give_back()
    new = await loop.rows(OutboxMessage, OutboxMessage.id > last)
    order = (await loop.rows(Order, Order.id == number))[0]
    card = [row.payload for row in new if row.target_id == order.card_outbox_id]
    centre = [row.payload for row in new if row.chat_id == CENTRE and row.kind == "edit"]
    resident = [row.payload["text"] for row in new if row.chat_id == RESIDENT]
    volunteer = [row.payload["text"] for row in new if row.chat_id == VOLUNTEER]
    events = await loop.rows(OrderEvent, OrderEvent.order_id == number)
    pending = [(i.kind, i.step) for i in await loop.rows(ScheduledItem, ScheduledItem.order_id == number,
                                                          ScheduledItem.state == "pending")]
    assert len(card) == 1 and len(resident) == 1 and len(volunteer) == 1
    return {"status": (order.status, order.volunteer_id), "card": card[0], "centre": centre, "resident": resident[0],
            "volunteer": volunteer[0], "event": events[-1].event, "pending": pending}


async def test_a_lease_expiry_gives_the_order_back_as_a_release_does(loop: Loop) -> None:
    number = await loop.accepted()
    released = await given_back(loop, number, lambda: loop.call(VOLUNTEER, claim.release, number))
    await loop.call(VOLUNTEER, claim.accept, number, TEAM_CHAT)  # taken again,
    await loop.sweep_after(120)  # "are you still on it?"
    expired = await given_back(loop, number, lambda: loop.sweep_after(30))  # no answer
    for same in ("status", "centre", "resident", "pending"):
        assert released[same] == expired[same], same
    assert released["status"] == ("dispatched", None) and released["centre"]
    assert released["resident"] == f"The volunteer could not do request #{number}; we are finding another one."
    assert released["pending"] == [("escalate", 1), ("escalate", 2), ("escalate", 3)]
    # The same card, back with its Accept button; only the reason in its status line differs.
    assert released["card"]["reply_markup"] == expired["card"]["reply_markup"] != {"inline_keyboard": []}
    body, reason = released["card"]["text"].rsplit("\n", 1)
    assert expired["card"]["text"] == body + "\nStatus: waiting for a volunteer (the previous one did not confirm)"
    assert reason == "Status: waiting for a volunteer (released by p12)"
    # What the volunteer is told, and the audit name, differ.
    assert (released["volunteer"], released["event"]) == (f"You released request #{number}.", "released")
    assert expired["volunteer"].startswith(f"You did not confirm request #{number}")
    assert expired["event"] == "lease_expired"
