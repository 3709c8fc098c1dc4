"""What every service call carries: the unit of work, what people are told (``tell``), configuration,
the actor.

The configuration is plain frozen values (no pydantic models): the composition root
(``bot.adapters.app.service_config``) reads them from the settings once, at start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.errors import NotAllowed
from bot.domain.recognition import Weights
from bot.i18n import N_
from bot.services import audiences
from bot.views.common import Reader, ViewSettings
from storage.models import User
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.views.tell import Tell


@dataclass(frozen=True)
class ReminderConfig:
    """Reminder, escalation, lease and digest timing (``[reminders]`` in the settings; minutes
    unless named). The defaults are the settings' defaults (a test holds them equal)."""

    escalation_minutes: tuple[int, ...] = (30, 90, 180)
    urgent_escalation_minutes: tuple[int, ...] = (5, 15, 30)
    lease_minutes: int = 120
    urgent_lease_minutes: int = 20
    lease_answer_minutes: int = 30
    appointment_before_minutes: int = 60
    appointment_grace_minutes: int = 60
    overdue_nudge_minutes: int = 60
    rating_reminder_hours: tuple[int, ...] = (24, 72)
    rating_no_response_hours: int = 168
    quiet_hours: str = "22:00-07:00"
    digest_time: str = "08:00"
    weekly_digest_weekday: int = 0  # 0 = Monday


@dataclass(frozen=True)
class RequestLimitConfig:
    """Open requests and requests per minute and hour one person may place (``[requests]``); a
    building leader's for neighbours apart. The defaults are the settings' defaults."""

    open_per_resident: int = 3
    per_minute: int = 2
    per_hour: int = 6
    neighbour_open: int = 15
    neighbour_per_minute: int = 5
    neighbour_per_hour: int = 30


@dataclass(frozen=True)
class ActivityConfig:
    """``[activities]``: the monthly target per team and the reminders before an activity."""

    per_team_per_month: int = 2
    reminder_hours: tuple[int, ...] = (24, 1)
    quota_reminder_day: int = 16


@dataclass(frozen=True)
class HoursConfig:
    """``[hours]``: the cap on an order's counted hours, per category (hours)."""

    default_cap_hours: float = 4.0
    caps: tuple[tuple[str, float], ...] = ()
    centre_name: str = ""  # printed on service-record certificates

    def cap_minutes(self, category: str) -> int:
        return round(dict(self.caps).get(category, self.default_cap_hours) * 60)


@dataclass(frozen=True)
class RecognitionConfig:
    """``[recognition]``: the score's weights and when the month's nominations are computed."""

    weights: Weights = field(default_factory=Weights)
    after_report_minutes: int = 60


@dataclass(frozen=True)
class PointsConfig:
    """``[points]``: points per hour served, the day (MM-DD) of the following year a year's points
    lapse after, how long a one-time code is good for. The defaults are the settings' defaults."""

    per_hour: int = 10
    expires_on: str = "03-31"
    code_minutes: int = 10

    def expiry(self, year: int) -> dt.date:
        """The last day the points earned in ``year`` can be spent."""
        month, day = (int(part) for part in self.expires_on.split("-"))
        return dt.date(year + 1, month, day)


@dataclass(frozen=True)
class MeasureConfig:
    """``[measures]``: 响应率 counts an order accepted within ``response_minutes`` of being placed."""

    response_minutes: int = 60


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
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    requests: RequestLimitConfig = field(default_factory=RequestLimitConfig)
    activities: ActivityConfig = field(default_factory=ActivityConfig)
    hours: HoursConfig = field(default_factory=HoursConfig)
    recognition: RecognitionConfig = field(default_factory=RecognitionConfig)
    points: PointsConfig = field(default_factory=PointsConfig)
    measures: MeasureConfig = field(default_factory=MeasureConfig)

    @property
    def views(self) -> ViewSettings:
        """What the views need of it, as plain values."""
        return ViewSettings(default_language=self.default_language, coordinators_chat_id=self.coordinators_chat_id,
                            categories=self.categories, communities=self.communities)


@dataclass
class ServiceContext:
    """One service call: ``user`` is the actor's row, created on first contact; ``bot_username``
    (for t.me join links) is empty until the bot has asked Telegram who it is. Built by
    :func:`bot.services.wiring.service_context`, the one place that puts these together."""

    uow: UnitOfWork
    tell: Tell
    config: ServiceConfig
    user: User
    bot_username: str = ""

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
        return await audiences.centre(self.uow, self.config.coordinators_chat_id, self.config.admins)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed(N_("Only an administrator can do this."))

    def require_coordinator(self) -> None:
        if not self.is_coordinator:
            raise NotAllowed(N_("Only a coordinator can do this."))
