"""What every service call carries: the unit of work, what people are told (``tell``), configuration,
the actor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.errors import NotAllowed
from bot.i18n import N_
from bot.services import audiences
from bot.settings import ReminderSettings, RequestLimits
from bot.views.common import Reader, ViewSettings
from storage.models import User
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.views.tell import Tell


@dataclass(frozen=True)
class ServiceConfig:
    """The parts of the settings services need."""

    admins: frozenset[int] = frozenset()
    categories: tuple[str, ...] = ()
    coordinators_chat_id: int | None = None
    default_language: str = "zh"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    approval_required: bool = True  # a coordinator approves each /join (settings: volunteers.approval_required)
    communities: tuple[str, ...] = ()  # /join offers these as buttons; empty: the community is typed
    bot_username: str = ""  # set once the bot knows it (for t.me join links)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    requests: RequestLimits = field(default_factory=RequestLimits)

    @property
    def views(self) -> ViewSettings:
        """What the views need of it, as plain values."""
        return ViewSettings(default_language=self.default_language, coordinators_chat_id=self.coordinators_chat_id,
                            categories=self.categories, communities=self.communities)


@dataclass
class ServiceContext:
    """One service call: ``user`` is the actor's row, created on first contact."""

    uow: UnitOfWork
    tell: Tell
    config: ServiceConfig
    user: User

    @property
    def now(self) -> dt.datetime:
        return self.uow.now()

    @property
    def is_admin(self) -> bool:
        return self.user.telegram_id in self.config.admins

    @property
    def is_coordinator(self) -> bool:
        return self.user.is_coordinator or self.is_admin

    async def centre(self) -> list[Reader]:
        """Who reads what the centre is told (see :func:`bot.services.audiences.centre`)."""
        return await audiences.centre(self.uow, self.config)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed(N_("Only an administrator can do this."))

    def require_coordinator(self) -> None:
        if not self.is_coordinator:
            raise NotAllowed(N_("Only a coordinator can do this."))
