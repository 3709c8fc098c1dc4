"""Service calls as a handler makes them, for the service tests that act as several people and
then deliver what was queued as the sender would (without Telegram)."""

from __future__ import annotations

from typing import Any

from bot.i18n import I18n
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import Volunteer
from tests.support.dbfixtures import UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100)


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any, coordinator: int) -> Any:
    """One update from ``telegram_id`` (a coordinator when it is ``coordinator``): ``service(ctx,
    *args)`` in its own unit of work (services commit themselves)."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        user.is_coordinator = telegram_id == coordinator
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def deliver_everything(uow_factory: UowFactory) -> None:
    """What the sender does, without Telegram: every waiting row sent, its message id its row id."""
    async with uow_factory() as uow:
        for row in await uow.outbox.due(uow.now(), 10_000):
            await uow.outbox.mark_sent(row.id, row.chat_id, row.id)
        await uow.commit()


async def repair_team(uow_factory: UowFactory, member: int, chat_id: int) -> int:
    """Team repair with its group ``chat_id``; ``member`` (Telegram id) an approved member, Vera."""
    async with uow_factory() as uow:
        vera = await uow.users.ensure(member, "Vera", "en")
        repair = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(repair.id, chat_id)
        uow.session.add(Volunteer(user_id=vera.id, team_id=repair.id, name="Vera", phone="+8613800000000",
                                  status="approved", created_at=uow.now()))
        await uow.commit()
        return repair.id
