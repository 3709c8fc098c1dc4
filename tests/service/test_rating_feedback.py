"""Volunteers hear back, and their hours stay theirs (sqlite, and postgresql with TEST_DATABASE_URL):
the volunteer who did a request is told the resident's verdict in words and their comment (phones
redacted); the ledger entry of a round that was rated poorly and reopened is kept, next to the
next round's, with the hours each volunteer typed beside it (once)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain import satisfaction
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import claim, dialogs, dispatch, rating
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import Order, OutboxMessage, Volunteer
from tests.support.dbfixtures import UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100)
RITA, VERA, VICTOR, COCO = 7101, 7102, 7103, 7104
TEAM_CHAT = -500


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    """One update: ``service(ctx, *args)`` in its own unit of work (services commit themselves)."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        user.is_coordinator = telegram_id == COCO
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def texts(uow_factory: UowFactory, chat_id: int) -> list[str]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
                                         .order_by(OutboxMessage.id))
        return [str(r.payload.get("text", "")) for r in rows]


async def hours(uow_factory: UowFactory, number: int) -> list[tuple[int, int | None, float | None]]:
    """The order's ledger entries: (round, who served it, the hours they typed beside it)."""
    async with uow_factory() as uow:
        people = {u.id: u.telegram_id for t in (VERA, VICTOR) if (u := await uow.users.by_telegram_id(t))}
        return [(e.round or 0, people.get(e.user_id),
                 None if e.claimed_minutes is None else e.claimed_minutes / 60)
                for e in await uow.ledger.of_order(number)]


async def taken_by_vera(uow_factory: UowFactory) -> int:
    """Team repair (group TEAM_CHAT) with Vera and Victor approved; Rita's request, dispatched and
    taken by Vera. Returns its number."""
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, TEAM_CHAT)
        for telegram_id, name in ((VERA, "Vera"), (VICTOR, "Victor")):
            member = await uow.users.ensure(telegram_id, name, "en")
            uow.session.add(Volunteer(user_id=member.id, team_id=team.id, name=name, phone="+8613800000000",
                                      status="approved", created_at=uow.now()))
        order = await uow.orders.add(resident_id=rita.id, status="new", category="repair", description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001")
        await uow.commit()
        number = order.id
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    return number


async def test_the_volunteer_hears_the_verdict_in_words_and_the_comment_redacted(uow_factory: UowFactory) -> None:
    number = await taken_by_vera(uow_factory)
    await act(uow_factory, VERA, claim.done, number)
    await act(uow_factory, RITA, rating.rate, number, satisfaction.NOT_SATISFIED)
    verdict = f"The resident rated request #{number}: 😞 Not satisfied. Thank you for your help!"
    assert (await texts(uow_factory, VERA))[-1] == verdict
    assert await act(uow_factory, RITA, dialogs.handle_input, Input(text="still leaking, call 13812345678"))
    told = (await texts(uow_factory, VERA))[-1]
    assert told.startswith(f"The resident's comment on request #{number}: still leaking, call ")
    assert "13812345678" not in told
    async with uow_factory() as uow:  # the poor verdict reopened the request, as before
        order = await uow.session.get(Order, number)
        assert order is not None and order.status == "new" and order.round == 2


async def test_a_good_verdict_from_an_old_star_button_reads_in_words(uow_factory: UowFactory) -> None:
    number = await taken_by_vera(uow_factory)
    await act(uow_factory, VERA, claim.done, number)
    await act(uow_factory, RITA, rating.rate, number, 3)  # ★★★ on a button of an earlier release
    assert (await texts(uow_factory, VERA))[-1] == (f"The resident rated request #{number}: 🙂 Mostly satisfied. "
                                                    "Thank you for your help!")
    async with uow_factory() as uow:
        order = await uow.session.get(Order, number)
        assert order is not None and order.status == "closed"


async def test_hours_of_a_reopened_round_are_kept(uow_factory: UowFactory) -> None:
    number = await taken_by_vera(uow_factory)
    await act(uow_factory, VERA, claim.done, number)
    await act(uow_factory, RITA, rating.rate, number, satisfaction.NOT_SOLVED)  # reopened before Vera said
    await act(uow_factory, VERA, claim.record_hours, number, "2")  # ... her hours: still hers to enter
    assert await hours(uow_factory, number) == [(1, VERA, 2.0)]
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VICTOR, claim.accept, number, TEAM_CHAT)
    await act(uow_factory, VICTOR, claim.done, number)
    await act(uow_factory, VICTOR, claim.record_hours, number, "1.5")
    await act(uow_factory, VERA, claim.record_hours, number, "2.5")  # her first figure stands
    assert (await texts(uow_factory, VERA))[-1] == (f"Your hours for request #{number} are already recorded. "
                                                    "Thank you!")
    assert await hours(uow_factory, number) == [(1, VERA, 2.0), (2, VICTOR, 1.5)]
    await act(uow_factory, RITA, rating.rate, number, satisfaction.SATISFIED)
    assert await hours(uow_factory, number) == [(1, VERA, 2.0), (2, VICTOR, 1.5)]
