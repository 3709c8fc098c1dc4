"""The typed context handlers receive: ``context.deps`` holds the bot's dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import I18n
from bot.services.context import ServiceConfig
from bot.settings import Settings
from storage.clock import Clock
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.adapters.sender import OutboxSender


@dataclass
class Deps:
    """Wiring, not state: everything that matters is in the database."""

    settings: Settings
    config: ServiceConfig
    i18n: I18n
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    sender: OutboxSender | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def uow(self, update_key: str | None = None) -> UnitOfWork:
        return UnitOfWork(self.sessions, clock=self.clock, update_key=update_key)

    def kick_sender(self) -> None:
        if self.sender is not None:
            self.sender.kick()


class BotData:
    """``application.bot_data``: only the dependencies (PTB requires a no-argument constructor)."""

    def __init__(self) -> None:
        self.deps: Deps | None = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to :class:`Deps`."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def deps(self) -> Deps:
        deps = self.bot_data.deps
        assert deps is not None, "build_application() sets the dependencies"
        return deps
