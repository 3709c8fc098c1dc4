"""Configuration: a TOML file (``--config`` or ``VLOOP_CONFIG``, default ``config.toml``) with
environment overrides (``VLOOP_`` prefix, ``__`` between levels, e.g. ``VLOOP_TELEGRAM__TOKEN``).

Every key is documented in ``config.example.toml``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CATEGORIES = [
    "delivery", "housekeeping", "consulting", "repair", "training", "mediation", "emergency", "other",
]
Language = Literal["zh", "en"]

_config_file: ContextVar[Path | None] = ContextVar("config_file", default=None)


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line meant for the operator."""


def _check_http_url(value: str, key: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{key} must be an http(s) URL, got {value!r}")
    return value


class TelegramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Telegram unreachable at start (the network may come back): try this many times in all,
    # waiting start_backoff_seconds, then twice that, ... (at most a minute) between tries.
    start_attempts: int = Field(default=5, ge=1, le=100)
    start_backoff_seconds: float = Field(default=2.0, ge=0, le=60)

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        return _check_http_url(value, f"telegram.{info.field_name}")


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite+aiosqlite:///volunteer-loop.sqlite3"
    echo: bool = False


_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WebhookSettings(BaseModel):
    """Webhook mode. The path served is the path of ``url`` (``path``, if given, must equal it);
    ``secret_token`` is required to run (:func:`require_webhook`)."""

    model_config = ConfigDict(extra="forbid")

    listen: str = "127.0.0.1"
    port: int = 8443
    url: str | None = None
    path: str | None = None
    secret_token: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value, "webhook.url")

    @field_validator("secret_token")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("secret_token must be 1-256 characters A-Z a-z 0-9 _ -")  # Telegram's rule
        return value

    @model_validator(mode="after")
    def _path_matches_url(self) -> WebhookSettings:
        if self.url is not None and self.path is not None and _as_path(self.path) != self.served_path:
            raise ValueError(f"webhook.path {_as_path(self.path)!r} differs from the path of webhook.url "
                             f"{self.served_path!r}; the URL's path is the path served, remove webhook.path")
        return self

    @property
    def served_path(self) -> str:
        """The HTTP path the bot listens on: the path of the URL Telegram posts to."""
        return _as_path(urlparse(self.url).path if self.url is not None else self.path or "")


def _as_path(value: str) -> str:
    return "/" + value.strip("/")


class IngestSettings(BaseModel):
    """Receiving updates (see docs/reliability.md)."""

    model_config = ConfigDict(extra="forbid")

    # Parked updates (ones the bot could not handle) hold what a person sent: deleted after this.
    parked_retention_days: int = Field(default=14, ge=1)
    # A "passing" failure (the database unreachable, a timeout) that comes back this many times in a
    # row on one update while the database answers is no outage: the update is parked instead.
    stuck_after_attempts: int = Field(default=12, ge=2)
    # Updates handled at once: different chats and people side by side, one chat's (or person's)
    # updates always one after another in order. 1: one update at a time.
    concurrency: int = Field(default=16, ge=1, le=256)


class OutboxSettings(BaseModel):
    """How the sender paces itself under Telegram's limits (its windows count a call from when its
    answer arrived, never earlier than Telegram counts it, so the limits themselves are safe)."""

    model_config = ConfigDict(extra="forbid")

    private_per_second: float = 1.0
    group_per_minute: int = 20
    group_burst: int = 3
    global_per_second: int = 30
    poll_interval: float = 0.5
    max_attempts: int = 12
    batch_size: int = 50
    concurrency: int = Field(default=8, ge=1, le=256)
    # A row being sent is claimed for this long; a sender that dies leaves it claimed until then,
    # unless the same instance starts again (it takes back its earlier boot's rows at once).
    lease_seconds: float = Field(default=60.0, ge=2.0, le=3600.0)
    # Who this process is, across restarts ("" = the host's name). Give each bot process sharing
    # one database on one host a name of its own, or one's restart takes the other's rows.
    instance: str = Field(default="", max_length=100)
    # Where Telegram's pacing is kept: "database" (shared by every bot process on the database, so
    # several replicas keep the limits together; storage/pacing.py) or "process" (this process's
    # memory only: a little faster, right only when one process sends).
    pacing: Literal["database", "process"] = "database"
    # Seconds a call is counted after its claim in the shared windows (Telegram counts it on arrival).
    pacing_margin_seconds: float = Field(default=0.25, ge=0.0, le=5.0)


_CLOCK = r"([01]\d|2[0-3]):[0-5]\d"  # a time of day, HH:MM


class ReminderSettings(BaseModel):
    """Reminders, escalation and claim leases (see docs/reminders.md). Times are minutes unless named."""

    model_config = ConfigDict(extra="forbid")

    sweep_seconds: float = 15.0
    batch_size: int = 50
    escalation_minutes: list[int] = Field(default_factory=lambda: [30, 90, 180])
    urgent_escalation_minutes: list[int] = Field(default_factory=lambda: [5, 15, 30])
    lease_minutes: int = 120
    urgent_lease_minutes: int = 20
    lease_answer_minutes: int = 30
    appointment_before_minutes: int = 60
    appointment_grace_minutes: int = 60
    overdue_nudge_minutes: int = 60
    rating_reminder_hours: list[int] = Field(default_factory=lambda: [24, 72])
    rating_no_response_hours: int = 168
    quiet_hours: str = "22:00-07:00"
    digest_time: str = "08:00"
    weekly_digest_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday

    @field_validator("escalation_minutes", "urgent_escalation_minutes")
    @classmethod
    def _three_steps(cls, value: list[int]) -> list[int]:
        if len(value) != 3 or any(b <= a for a, b in zip([0, *value], value, strict=False)):
            raise ValueError("three increasing delays in minutes: bump, other teams, leaders and coordinators")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if not re.fullmatch(f"{_CLOCK}-{_CLOCK}", value):
            raise ValueError("quiet_hours is HH:MM-HH:MM")
        return value

    @field_validator("digest_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(_CLOCK, value):
            raise ValueError("a time of day, HH:MM")
        return value


class HousekeepingSettings(BaseModel):
    """Pruning what only matters for a while (see bot.services.housekeeping): the ids of handled
    updates and finished outbox rows, in short batches, every ``interval_minutes``."""

    model_config = ConfigDict(extra="forbid")

    # Telegram keeps an unconfirmed update for 24 hours and may deliver it again meanwhile: an id
    # kept for less could let a redelivered update be handled twice. At least as long as
    # [ingest] parked_retention_days, since a replayed parked update is recognised by its id too.
    processed_updates_days: int = Field(default=14, ge=1)
    outbox_days: int = Field(default=30, ge=1)
    batch_size: int = Field(default=1000, ge=1, le=10_000)
    interval_minutes: float = Field(default=60.0, gt=0)
    # The first pass waits this long after the bot starts, so start-up (and the updates waiting for a
    # restarted bot) come first.
    start_delay_seconds: float = Field(default=30.0, ge=0)
    # A pause between batches, so the handlers of this and other processes get the database (on
    # SQLite, its one write lock) in between.
    batch_pause_seconds: float = Field(default=0.05, ge=0)


class VolunteerSettings(BaseModel):
    """Volunteer registration (/join)."""

    model_config = ConfigDict(extra="forbid")

    approval_required: bool = True  # a coordinator approves each membership; False: members at once


class RequestLimits(BaseModel):
    """How many requests one person may have open, and place per minute and per hour (sliding
    windows counted in the database, so every bot process sees the same numbers). A building
    leader's requests for neighbours (/neighbour) are counted apart, with their own limits."""

    model_config = ConfigDict(extra="forbid")

    open_per_resident: int = Field(default=3, ge=1)
    per_minute: int = Field(default=2, ge=1)
    per_hour: int = Field(default=6, ge=1)
    neighbour_open: int = Field(default=15, ge=1)
    neighbour_per_minute: int = Field(default=5, ge=1)
    neighbour_per_hour: int = Field(default=30, ge=1)


class ActivitySettings(BaseModel):
    """Teams' own activities (see docs/activities.md): the monthly target and the reminders."""

    model_config = ConfigDict(extra="forbid")

    per_team_per_month: int = Field(default=2, ge=0)  # the quota each team's activities are held against
    # Those signed up are reminded this many hours before the start (quiet hours respected).
    reminder_hours: list[int] = Field(default_factory=lambda: [24, 1])
    quota_reminder_day: int = Field(default=16, ge=1, le=28)  # from this day a team under target is reminded


class HoursSettings(BaseModel):
    """The hours ledger: an order's hours are its accept → done time, capped per category."""

    model_config = ConfigDict(extra="forbid")

    default_cap_hours: float = Field(default=4.0, gt=0, le=24)
    caps: dict[str, float] = Field(default_factory=dict)  # category → cap in hours, e.g. {medical = 3}
    centre_name: str = Field(default="", max_length=64)  # printed on service-record certificates


class RecognitionSettings(BaseModel):
    """典型推介 (docs/recognition.md): the weights of a month's 志愿之星 and 五星服务队 score (only their
    ratios matter) and when the nominations are computed."""

    model_config = ConfigDict(extra="forbid")

    orders: float = Field(default=0.4, ge=0)  # completed orders (per member for a team)
    activities: float = Field(default=0.2, ge=0)  # activities attended
    satisfaction: float = Field(default=0.25, ge=0)  # ratings of 4 or more among those given
    response: float = Field(default=0.15, ge=0)  # the median minutes from dispatch to accept, lower is better
    response_reference_minutes: int = Field(default=60, ge=1)  # a median this fast scores half the response part
    after_report_minutes: int = Field(default=60, ge=0, le=720)  # on the 1st, this long after the monthly report

    @model_validator(mode="after")
    def _some_weight(self) -> RecognitionSettings:
        if not any((self.orders, self.activities, self.satisfaction, self.response)):
            raise ValueError("at least one recognition weight must be above 0")
        return self


class PointsSettings(BaseModel):
    """Points for hours served (docs/points.md), spent at the service alliance's businesses."""

    model_config = ConfigDict(extra="forbid")

    per_hour: int = Field(default=10, ge=0, le=1000)  # points per hour served (orders, activities; not honour)
    # A year's points can be spent until the end of this day (MM-DD) of the following year.
    expires_on: str = "03-31"
    code_minutes: int = Field(default=10, ge=1, le=60)  # a one-time code is good for this long

    @field_validator("expires_on")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(f"2001-{value}")  # not a leap year: 02-29 would vanish three years in four
        except ValueError:
            raise ValueError("expires_on is MM-DD, e.g. 03-31") from None
        return value


class MeasureSettings(BaseModel):
    """The measures (docs/measures.md): 响应率 counts an order accepted within this many minutes of
    being placed."""

    model_config = ConfigDict(extra="forbid")

    response_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class PrivacySettings(BaseModel):
    """How long a resident's personal data stays with a finished order (docs/retention.md): the
    contact's name, phone and address, the voice note and the photo are erased this many days after
    the order closed (closed, cancelled or rejected), by the housekeeping pass."""

    model_config = ConfigDict(extra="forbid")

    contact_retention_days: int = Field(default=30, ge=1, le=3650)


class HealthSettings(BaseModel):
    """The HTTP endpoint for probes and Prometheus (docs/health.md): ``/healthz``, ``/readyz`` and
    ``/metrics`` on ``listen``:``port``, in polling and webhook mode alike. Port 0: no endpoint."""

    model_config = ConfigDict(extra="forbid")

    listen: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    # Polling: ready only while a getUpdates call returned within this many seconds (a long poll
    # lasts 10 s).
    poll_stale_seconds: float = Field(default=120.0, gt=0)
    # Webhook: ready only while Telegram posted within this many seconds. 0: not checked, since
    # Telegram posts only when someone writes, and a quiet night is no fault.
    webhook_stale_seconds: float = Field(default=0.0, ge=0)
    # The readiness probe's SELECT 1 gives up after this long: the database counts as unreachable.
    database_timeout_seconds: float = Field(default=2.0, gt=0, le=60)


class LoggingSettings(BaseModel):
    """What the ``run`` command logs (docs/health.md): the level, and plain text or one JSON object
    per line (for a log collector). Phone numbers are masked in both (bot.logsafety)."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Everything the bot needs to run; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(env_prefix="VLOOP_", env_nested_delimiter="__", extra="forbid")

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    volunteers: VolunteerSettings = Field(default_factory=VolunteerSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    requests: RequestLimits = Field(default_factory=RequestLimits)
    housekeeping: HousekeepingSettings = Field(default_factory=HousekeepingSettings)
    activities: ActivitySettings = Field(default_factory=ActivitySettings)
    hours: HoursSettings = Field(default_factory=HoursSettings)
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    points: PointsSettings = Field(default_factory=PointsSettings)
    measures: MeasureSettings = Field(default_factory=MeasureSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    admins: list[int] = Field(default_factory=list)
    coordinators_chat_id: int | None = None
    timezone: str = "Asia/Shanghai"
    default_language: Language = "zh"
    categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    # The communities volunteers choose from when they register; empty: they type their community.
    communities: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("housekeeping")
    @classmethod
    def _update_ids_outlive_parked_updates(cls, value: HousekeepingSettings,
                                           info: ValidationInfo) -> HousekeepingSettings:
        ingest = info.data.get("ingest")
        if isinstance(ingest, IngestSettings) and value.processed_updates_days < ingest.parked_retention_days:
            raise ValueError(f"processed_updates_days ({value.processed_updates_days}) must be at least "
                             f"ingest.parked_retention_days ({ingest.parked_retention_days}): a parked update can "
                             "be replayed that long, and only its id tells whether it was handled meanwhile")
        return value

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        if not value or any(not c.isidentifier() or len(c) > 20 for c in value):
            raise ValueError("categories must be short identifiers such as 'repair'")
        return value

    @field_validator("communities")
    @classmethod
    def _communities(cls, value: list[str]) -> list[str]:
        names = [" ".join(c.split()) for c in value]
        if any(not c or len(c) > 64 for c in names):
            raise ValueError("communities must be names of 1-64 characters")
        if len(set(names)) != len(names) or len(names) > 90:
            raise ValueError("communities must be at most 90 different names")
        return names

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_config_file.get())


def config_path(explicit: str | Path | None = None) -> Path:
    """The TOML file to read: ``--config``, else ``VLOOP_CONFIG``, else ``config.toml``."""
    return Path(explicit or os.environ.get("VLOOP_CONFIG") or "config.toml")


def load_settings(path: str | Path | None = None, **overrides: object) -> Settings:
    """Read the configuration; raises :class:`ConfigError` with one readable line on a problem."""
    file = config_path(path)
    named = path is not None or bool(os.environ.get("VLOOP_CONFIG"))
    if named and not file.is_file():
        raise ConfigError(f"config file {file} does not exist")
    token = _config_file.set(file if file.is_file() else None)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(f"config error in {describe(error)}") from None
    except ValueError as error:  # malformed TOML, or an environment value that is not JSON
        reason = str(error).splitlines()[0]
        if "EnvSettingsSource" in reason:
            raise ConfigError(f"bad environment value: {reason}") from None
        raise ConfigError(f"cannot read {file}: {reason}") from None
    finally:
        _config_file.reset(token)


def describe(error: ValidationError, prefix: str = "") -> str:
    """The first problem of a validation error as ``key: reason``, on one line."""
    first = error.errors()[0]
    where = ".".join([prefix, *map(str, first["loc"])] if prefix else map(str, first["loc"]))
    return f"{where}: {first['msg']}".replace("\n", " ")


def require_token(settings: Settings) -> str:
    """The bot token, or a :class:`ConfigError` telling the operator where to put it."""
    if settings.telegram.token is None or not settings.telegram.token.get_secret_value().strip():
        raise ConfigError(
            "no bot token: set telegram.token in config.toml or the VLOOP_TELEGRAM__TOKEN "
            "environment variable (get one from @BotFather)"
        )
    return settings.telegram.token.get_secret_value()


def require_webhook(webhook: WebhookSettings) -> str:
    """The webhook's secret token, or a :class:`ConfigError`: without one, anyone who reaches the
    port could post updates as any user."""
    if not webhook.url:
        raise ConfigError("webhook mode needs a public URL: --url or webhook.url in the config")
    if webhook.secret_token is None:
        raise ConfigError("webhook mode needs a secret token (1-256 characters A-Z a-z 0-9 _ -): "
                          "--secret-token or webhook.secret_token in the config; without it anyone "
                          "who reaches the port could post updates as any user")
    return webhook.secret_token.get_secret_value()
