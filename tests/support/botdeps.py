"""The bot's dependencies without Telegram, for service tests that run what the application wires
(the sweep, the views) on a test database and clock."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.app import service_config
from bot.adapters.context import Deps
from bot.i18n import I18n
from bot.settings import Settings
from storage.clock import Clock
from storage.db import session_factory

I18N = I18n()


def make_deps(settings: Settings, engine: AsyncEngine, clock: Clock) -> Deps:
    """What ``bot.adapters.app.build_application`` wires for services and the sweep, minus Telegram (no
    outbox sender)."""
    return Deps(settings=settings, config=service_config(settings), i18n=I18N, engine=engine,
                sessions=session_factory(engine), clock=clock)
