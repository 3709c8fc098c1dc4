"""What every service call carries: the unit of work, the notifier, configuration, the actor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.errors import NotAllowed
from bot.i18n import N_
from bot.settings import ReminderSettings, RequestLimits
from storage.models import User
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.views.notifier import Notifier


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


@dataclass
class ServiceContext:
    """One service call: ``user`` is the actor's row, created on first contact."""

    uow: UnitOfWork
    notify: Notifier
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

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed(N_("Only an administrator can do this."))

    def require_coordinator(self) -> None:
        if not self.is_coordinator:
            raise NotAllowed(N_("Only a coordinator can do this."))
