"""The composition root: ``build_application(settings, request=None)`` wires everything."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import socket
from pathlib import Path
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    ContextTypes,
)
from telegram.request import BaseRequest

from bot.adapters.attachments import AttachmentRenderer
from bot.adapters.context import BotContext, BotData, Deps
from bot.adapters.failures import log_failure
from bot.adapters.handlers import register_all
from bot.adapters.ingest import describe_failure, failure_stack, record_failure
from bot.adapters.sender import OutboxSender
from bot.domain.attachments import Certificate, HoursExport, MyData, ReportChart, ReportFile
from bot.domain.recognition import Weights
from bot.i18n import LANGUAGES, I18n
from bot.logsafety import protect_logs
from bot.services import attendance, hours_files, people, privacy, recognition, report_files, roles
from bot.services.context import (
    ActivityConfig,
    HoursConfig,
    MeasureConfig,
    PointsConfig,
    RecognitionConfig,
    ReminderConfig,
    RequestLimitConfig,
    ServiceConfig,
)
from bot.services.housekeeping import Housekeeper, Retention
from bot.services.roster import export_roster
from bot.services.schedule import activity_rules, attendance_rules, digests, rules
from bot.services.schedule.sweep import Sweeper
from bot.settings import (
    HousekeepingSettings,
    PrivacySettings,
    ReminderSettings,
    RequestLimits,
    Settings,
    require_token,
)
from storage.clock import Clock, utc_now
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
# CHAT_MEMBER: members leaving a team's group (Telegram sends it only where the bot is an admin).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER, Update.CHAT_MEMBER]

BotApplication = Application[Any, BotContext, Any, Any, BotData, Any]


def reminder_config(reminders: ReminderSettings) -> ReminderConfig:
    """The reminder settings services read (the sweep's own two stay here), as plain values."""
    wanted = {field.name for field in dataclasses.fields(ReminderConfig)}
    values: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value
                              for name, value in reminders.model_dump(include=wanted).items()}
    return ReminderConfig(**values)


def request_limit_config(limits: RequestLimits) -> RequestLimitConfig:
    """The request limits as the plain values services read."""
    return RequestLimitConfig(**limits.model_dump())


def retention(housekeeping: HousekeepingSettings, privacy: PrivacySettings) -> Retention:
    """The ``[housekeeping]`` and ``[privacy]`` settings as the plain values the housekeeper reads."""
    return Retention(processed_updates=dt.timedelta(days=housekeeping.processed_updates_days),
                     outbox=dt.timedelta(days=housekeeping.outbox_days), batch_size=housekeeping.batch_size,
                     batch_pause_seconds=housekeeping.batch_pause_seconds,
                     contacts=dt.timedelta(days=privacy.contact_retention_days))


def service_config(settings: Settings) -> ServiceConfig:
    """What services need of the settings, read once at start."""
    return ServiceConfig(admins=frozenset(settings.admins), categories=tuple(settings.categories),
                         coordinators_chat_id=settings.coordinators_chat_id,
                         default_language=settings.default_language, timezone=settings.tz,
                         approval_required=settings.volunteers.approval_required,
                         communities=tuple(settings.communities), reminders=reminder_config(settings.reminders),
                         requests=request_limit_config(settings.requests),
                         activities=ActivityConfig(per_team_per_month=settings.activities.per_team_per_month,
                                                   reminder_hours=tuple(settings.activities.reminder_hours),
                                                   quota_reminder_day=settings.activities.quota_reminder_day),
                         hours=HoursConfig(default_cap_hours=settings.hours.default_cap_hours,
                                           caps=tuple(sorted(settings.hours.caps.items())),
                                           centre_name=settings.hours.centre_name),
                         recognition=recognition_config(settings),
                         points=PointsConfig(per_hour=settings.points.per_hour, expires_on=settings.points.expires_on,
                                             code_minutes=settings.points.code_minutes),
                         measures=MeasureConfig(response_minutes=settings.measures.response_minutes))


def recognition_config(settings: Settings) -> RecognitionConfig:
    """``[recognition]`` as the plain values services read."""
    values = settings.recognition
    return RecognitionConfig(Weights(values.orders, values.activities, values.satisfaction, values.response,
                                     values.response_reference_minutes), values.after_report_minutes)


def build_application(settings: Settings, request: BaseRequest | None = None, *,
                      clock: Clock = utc_now) -> BotApplication:
    """The bot, ready to run; ``request`` replaces the network (tests, local Bot API servers)."""
    protect_logs()
    builder = (ApplicationBuilder().token(require_token(settings))
               .base_url(settings.telegram.base_url).base_file_url(settings.telegram.base_file_url)
               .context_types(ContextTypes(context=BotContext, bot_data=BotData))
               .updater(None)  # bot.adapters.ingest receives updates: acknowledged only after handling
               .post_init(_post_init).post_stop(_post_stop).post_shutdown(_post_shutdown))
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application: BotApplication = builder.build()
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    application.bot_data.deps = Deps(settings=settings, config=service_config(settings),
                                     i18n=I18n(settings.default_language), engine=engine,
                                     sessions=session_factory(engine), clock=clock, bot=application.bot)
    register_all(application)
    application.add_error_handler(_on_error)
    return application


async def _post_init(application: BotApplication) -> None:
    deps = application.bot_data.deps
    assert deps is not None

    async def on_unreachable(uow: UnitOfWork, chat_id: int) -> None:
        user = await uow.users.by_telegram_id(chat_id)
        if user is not None:
            await people.tell_if_volunteer_unreachable(deps.service_context(uow, user), user)

    async def write_roster(path: Path) -> int:
        return await export_roster(deps.uow, path)

    async def write_ledger(attachment: HoursExport | Certificate, path: Path) -> None:
        await hours_files.write(deps.uow, attachment, path, deps.config, deps.clock())

    async def write_report(attachment: ReportFile | ReportChart, path: Path) -> None:
        await report_files.write(deps.uow, attachment, path, deps.config)

    async def write_mydata(attachment: MyData, path: Path) -> None:
        await privacy.write(deps.uow, attachment, path, deps.i18n)

    deps.sender = OutboxSender(application.bot, deps.uow, deps.settings.outbox, clock=deps.clock,
                               on_unreachable=on_unreachable,
                               attachments=AttachmentRenderer(write_roster, write_ledger, write_report,
                                                              deps.i18n.translator, deps.config.hours.centre_name,
                                                              write_mydata),
                               concurrency=deps.settings.outbox.concurrency,
                               lease=deps.settings.outbox.lease_seconds,
                               instance=deps.settings.outbox.instance or socket.gethostname(),
                               metrics=deps.metrics)
    deps.sender_task = asyncio.create_task(deps.sender.run(), name="outbox-sender")
    # APScheduler (PTB's JobQueue, in memory) only ticks: the schedule itself is rows (bot.services.schedule.sweep).
    deps.sweeper = Sweeper(deps, {**rules.HANDLERS, **digests.HANDLERS, **activity_rules.HANDLERS,
                                  **attendance_rules.HANDLERS, **recognition.HANDLERS},
                           batch_size=deps.settings.reminders.batch_size)
    async with deps.uow() as uow:  # the next daily, weekly and monthly digests (keyed: once across processes)
        await digests.schedule_recurring(uow, deps.config, uow.now())
        await activity_rules.schedule_quota(uow, deps.config, uow.now())
        await recognition.schedule_next(uow, deps.config, uow.now())  # the month's nominations
        await attendance.watch_ends(uow, uow.now())  # and the hourly watch over activities' ends
        await uow.commit()
    # Pruning old update ids and outbox rows in the background (bot.services.housekeeping).
    housekeeping = deps.settings.housekeeping
    deps.housekeeper = Housekeeper(deps.uow, retention(housekeeping, deps.settings.privacy))
    deps.housekeeping_task = asyncio.create_task(
        deps.housekeeper.run(60 * housekeeping.interval_minutes, start_delay_seconds=housekeeping.start_delay_seconds),
        name="housekeeping")
    assert application.job_queue is not None
    application.job_queue.run_repeating(_sweep, interval=deps.settings.reminders.sweep_seconds, first=0.0,
                                        name="schedule-sweep", job_kwargs={"max_instances": 1, "coalesce": True,
                                                                           "misfire_grace_time": None})
    # Everyone's menu, set while the bot already receives updates: two Bot API round trips that
    # need not delay start-up (a person's own menu, by role, goes through the outbox anyway).
    deps.menus_task = asyncio.create_task(_set_default_menus(application), name="default-menus")


async def _set_default_menus(application: BotApplication) -> None:
    """Everyone's command menu until their roles give them their own; a failure is logged (the next
    start sets it again)."""
    deps = application.bot_data.deps
    assert deps is not None
    try:
        for language in LANGUAGES:
            commands = [BotCommand(name, deps.i18n.gettext(language, text))
                        for name, text in roles.MENUS[roles.RESIDENT]]
            await application.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                                  language_code=None if language == "en" else language)
    except Exception as error:  # noqa: BLE001 - a background task must not die unseen
        log_failure(log, error, "setting the default command menus failed")


async def _sweep(context: BotContext) -> None:
    """The sweep job: no arguments, nothing personal; an error is logged and the next tick retries."""
    sweeper = context.deps.sweeper
    assert sweeper is not None, "post_init made the sweeper before the job's first run"
    try:
        context.deps.metrics.swept(await sweeper.sweep())
    except Exception as error:  # noqa: BLE001 - a job must not die: the next tick retries
        log_failure(log, error, "schedule sweep failed")


async def _post_stop(application: BotApplication) -> None:
    deps = application.bot_data.deps
    if deps is not None and deps.menus_task is not None:
        deps.menus_task.cancel()  # stopping before it finished: the next start sets the menus
        await asyncio.gather(deps.menus_task, return_exceptions=True)
        deps.menus_task = None
    if deps is not None and deps.housekeeper is not None:
        deps.housekeeper.stop()
        housekeeping, deps.housekeeping_task = deps.housekeeping_task, None
        if housekeeping is not None:
            await asyncio.gather(housekeeping, return_exceptions=True)
    if deps is not None and deps.sender is not None:
        await deps.sender.stop()
        task, deps.sender_task = deps.sender_task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)


async def _post_shutdown(application: BotApplication) -> None:
    deps = application.bot_data.deps
    if deps is not None:
        await deps.engine.dispose()


async def _on_error(update: object, context: BotContext) -> None:
    """A handler failed: ingest learns it (it retries or parks the update, and logs it); anything
    else is logged by type and place only (messages and contents may hold phone numbers)."""
    error = context.error
    if error is not None and record_failure(update, error):
        raise ApplicationHandlerStop  # no later handler group runs on an update that failed
    if error is None:
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s: %s\n%s", update_id, describe_failure(error), failure_stack(error))
