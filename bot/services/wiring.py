"""The one way a service call is put together: the unit of work, what people are told over it, the
configuration and the actor. Handlers (through ``Deps.service_context``), the schedule sweep,
benchmarks and tests all build their :class:`ServiceContext` here."""

from __future__ import annotations

from bot.i18n import I18n
from bot.services.context import ServiceConfig, ServiceContext
from bot.views.tell import Tell
from storage.models import User
from storage.uow import UnitOfWork


def tell(uow: UnitOfWork, *, i18n: I18n, config: ServiceConfig) -> Tell:
    """What people are told, queued in ``uow``'s outbox (also for adapters answering outside a service)."""
    return Tell(uow.outbox, i18n, config.views)


def service_context(uow: UnitOfWork, user: User, *, i18n: I18n, config: ServiceConfig,
                    bot_username: str = "") -> ServiceContext:
    """A service call by ``user`` in ``uow``; ``bot_username`` once the bot knows it (join links)."""
    return ServiceContext(uow, tell(uow, i18n=i18n, config=config), config, user, bot_username)
