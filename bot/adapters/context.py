"""The typed context handlers receive: ``context.deps`` holds the bot's dependencies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.ext import Application, CallbackContext, ExtBot

from bot.adapters.metrics import Metrics
from bot.adapters.taps import AnsweredTaps
from bot.i18n import I18n
from bot.services import wiring
from bot.services.context import ServiceConfig, ServiceContext
from bot.settings import Settings
from bot.views.tell import Tell
from storage.clock import Clock
from storage.models import User
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.adapters.sender import OutboxSender
    from bot.services.housekeeping import Housekeeper
    from bot.services.schedule.sweep import Sweeper


@dataclass
class Deps:
    """Wiring, not state: everything that matters is in the database. ``config`` is built once, from
    the settings; ``bot`` is the application's (None without Telegram, as in service tests). The
    outbox sender, its task, the sweeper and the housekeeper exist while the bot runs (``bot.adapters.app``)."""

    settings: Settings
    config: ServiceConfig
    i18n: I18n
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    bot: Bot | None = None
    sender: OutboxSender | None = None
    sender_task: asyncio.Task[None] | None = None
    sweeper: Sweeper | None = None
    housekeeper: Housekeeper | None = None
    housekeeping_task: asyncio.Task[None] | None = None
    menus_task: asyncio.Task[None] | None = None
    metrics: Metrics = field(default_factory=Metrics)  # counted by the adapters, served by bot.adapters.health

    def uow(self, update_key: str | None = None) -> UnitOfWork:
        """A unit of work whose committed outbox rows go straight to the sender (its fast path)."""
        sender = self.sender
        return UnitOfWork(self.sessions, clock=self.clock, update_key=update_key,
                          after_commit=sender.notify if sender is not None else None)

    @property
    def bot_username(self) -> str:
        """The bot's username, for join links: PTB asks Telegram (``getMe``) when it initialises,
        before any update, job or delivery; empty without Telegram."""
        return self.bot.username if self.bot is not None else ""

    def tell(self, uow: UnitOfWork) -> Tell:
        """What people are told, queued in ``uow``'s outbox (for adapters that answer outside a service)."""
        return wiring.tell(uow, i18n=self.i18n, config=self.config)

    def service_context(self, uow: UnitOfWork, user: User) -> ServiceContext:
        """The per-update (or per-job) service call of ``user`` in ``uow``."""
        return wiring.service_context(uow, user, i18n=self.i18n, config=self.config, bot_username=self.bot_username)


class BotData:
    """``application.bot_data``: the dependencies and the taps answered (PTB requires a no-argument
    constructor)."""

    def __init__(self) -> None:
        self.deps: Deps | None = None
        self.answered = AnsweredTaps()  # the taps answered, so none is answered twice (bot.adapters.taps)


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
