"""Receiving updates so that Telegram is told "received" only once an update was handled, or once
it was parked as one we cannot handle.

python-telegram-bot's own Updater confirms a polled batch as soon as it is fetched, parses the whole
batch at once (one update it cannot parse kills the poller and is logged, contents and all), and its
webhook answers 200 before any handler runs. Here each raw update is parsed on its own and passed
to ``Application.process_update``; the application's error handler tells us (:func:`record_failure`)
whether a handler failed, and :class:`Intake` decides:

* handled → confirmed (the next ``getUpdates`` offset; HTTP 200);
* a transient failure (the database unreachable or locked, a lost connection, a timeout) → not
  confirmed: polling holds its offset and handles the same update again with backoff before any
  later one; the webhook retries for a few seconds, then answers 503 so Telegram delivers it again;
  one that keeps coming back while the database answers is a bug after all, and parked;
* a permanent failure (unparseable, a handler bug) → parked (``parked_updates``: ids, the error's
  type and place, the raw update for a replay), then confirmed, and the bot goes on. If parking
  fails too, that is transient.

The handlers' effects commit together with the update's id (``storage.uow``): a failed attempt
rolls the id back with the effects, so a retry or a replay runs in full, and an update that was
already handled (a redelivery, a replay) is a no-op. Log lines name update ids, kinds and error
types, never an update's contents or an error's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import json
import logging
import os
import traceback
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from telegram import Update
from telegram.error import (
    Conflict,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from bot.adapters.failures import is_transient
from bot.adapters.lanes import Confirmations, Lanes, TurnHandle, keys_of
from bot.adapters.sender import retry_after_seconds
from bot.domain.arguments import TELEGRAM_ID_MAX
from bot.settings import WebhookSettings, require_webhook
from bot.views.common import COULD_NOT_HANDLE

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0  # fetching updates
MAX_RETRY_DELAY = 5.0  # handling one update again: a tap must still be answered soon after recovery
WEBHOOK_PATIENCE = 5.0  # seconds a webhook request retries before answering 503
REPLAY_INTERVAL = 2.0  # seconds between looks for updates an operator asked to replay
PRUNE_INTERVAL = 3600.0
SETTLE_SECONDS = 0.1  # polling, with updates in flight and nothing new: the longest wait before looking again
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_ID = 2 ** 63 - 1
AnyApplication = Any  # telegram.ext.Application with our context types


# -- what happened to one update -----------------------------------------------------------------
@dataclass
class _Handling:
    """The update being handled in this task, and the errors its handlers raised."""

    update_id: int
    errors: list[BaseException] = field(default_factory=list)


_handling: ContextVar[_Handling | None] = ContextVar("ingest_handling", default=None)


def record_failure(update: object, error: BaseException) -> bool:
    """Called by the application's error handler: a handler failed on ``update``. True when ingest
    is handling that update and takes over (classifies, retries or parks, and logs)."""
    handling = _handling.get()
    if handling is None or not isinstance(update, Update) or update.update_id != handling.update_id:
        return False
    handling.errors.append(error)
    return True


def describe_failure(error: BaseException) -> str:
    """The error's type and the place it was raised (``KeyError at orders.py:12 in take``), never
    its message, which may quote what a person typed."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} at {os.path.basename(last.filename)}:{last.lineno} in {last.name}"


def failure_stack(error: BaseException) -> str:
    """The traceback's frames (code, not data) without the error's message."""
    return "".join(traceback.format_tb(error.__traceback__)).rstrip()


def update_id_of(raw: object) -> int | None:
    """The ``update_id`` of a raw update, or None when ``raw`` is not an update at all."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("update_id")
    return value if type(value) is int and 0 <= value <= MAX_UPDATE_ID else None


def kind_of(raw: dict[str, Any]) -> str:
    """The update's kind (``message``, ``callback_query``…), from its first field after the id."""
    return next((str(key)[:32] for key in raw if key != "update_id"), "empty")


def retry_delay(attempt: int) -> float:
    """Backoff for handling an update again: 0.25 s, doubling, at most :data:`MAX_RETRY_DELAY`."""
    return min(MAX_RETRY_DELAY, 0.25 * 2 ** min(attempt - 1, 10))


class Verdict(enum.Enum):
    HANDLED = "handled"
    PARKED = "parked"
    RETRY = "retry"  # a transient failure: do not confirm; take the same update again later


@dataclass(frozen=True)
class Taken:
    verdict: Verdict
    detail: str = ""  # the error's type (RETRY), or the parked row's number (PARKED)


class Intake:
    """One raw update → parsed, handled and judged (see the module docstring)."""

    def __init__(self, application: AnyApplication) -> None:
        self.application = application
        self.metrics = application.bot_data.deps.metrics
        self._passing: dict[int, int] = {}  # update id → "passing" failures in a row

    def uow(self) -> Any:
        deps = self.application.bot_data.deps
        assert deps is not None, "build_application() sets the dependencies"
        return deps.uow()

    async def _stuck(self, update_id: int) -> bool:
        """Whether a "passing" failure of this update is really a bug: it came back
        ``[ingest] stuck_after_attempts`` times in a row while the database answers."""
        if len(self._passing) > 10_000:  # updates Telegram gave up redelivering
            self._passing.clear()
        count = self._passing[update_id] = self._passing.get(update_id, 0) + 1
        if count < self.application.bot_data.deps.settings.ingest.stuck_after_attempts:
            return False
        try:
            async with self.uow() as uow:
                await uow.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - the database is away: an outage after all
            return False
        return True

    async def take(self, raw: dict[str, Any]) -> Taken:
        """Handle one raw update whose ``update_id`` is valid (:func:`update_id_of`), and count it."""
        taken = await self._take(raw)
        self.metrics.took(kind_of(raw), taken.verdict.value)
        return taken

    async def _take(self, raw: dict[str, Any]) -> Taken:
        update_id = raw["update_id"]
        try:
            update = Update.de_json(raw, self.application.bot)
        except Exception as error:  # noqa: BLE001 - whatever the library cannot parse is parked
            return await self._park(raw, error, unparseable=True)
        handling = _Handling(update_id)
        token = _handling.set(handling)
        try:
            with self.metrics.handler_seconds.time():
                await self.application.process_update(update)
        except Exception as error:  # noqa: BLE001 - not expected (the error handler sees handler errors)
            handling.errors.append(error)
        finally:
            _handling.reset(token)
        if not handling.errors:
            self._passing.pop(update_id, None)
            return Taken(Verdict.HANDLED)
        transient = next((e for e in handling.errors if is_transient(e)), None)
        if transient is not None and not await self._stuck(update_id):
            return Taken(Verdict.RETRY, type(transient).__name__)
        self._passing.pop(update_id, None)
        return await self._park(raw, transient or handling.errors[0], unparseable=False)

    async def _park(self, raw: dict[str, Any], error: BaseException, *, unparseable: bool) -> Taken:
        update_id = raw["update_id"]
        error_type = "unparseable" if unparseable else type(error).__name__
        reason = describe_failure(error)
        try:
            async with self.uow() as uow:
                row_id = await uow.parked.park(update_id, kind_of(raw), error_type, reason, raw)
                alert = await self._apologise(uow, raw)
                await uow.commit()
        except Exception as failure:  # noqa: BLE001 - parking needs the database: try again later
            return Taken(Verdict.RETRY, f"parking failed: {type(failure).__name__}")
        # A tap must be answered, or the person's button keeps spinning; but only once (its handler
        # may have answered it before failing).
        if alert is not None and self.application.bot_data.answered.claim(alert[0]):
            query_id, text = alert
            with contextlib.suppress(TelegramError):
                await self.application.bot.answer_callback_query(query_id, text=text, show_alert=True)
        if unparseable:  # not a fault of ours: Telegram sends nothing its own library cannot read
            log.warning("update %s (%s) could not be parsed (%s): parked as #%s; see `volunteer-loop updates "
                        "parked`", update_id, kind_of(raw), reason, row_id)
        else:
            log.error("update %s (%s) could not be handled (%s): parked as #%s; see `volunteer-loop updates "
                      "parked`\n%s", update_id, kind_of(raw), reason, row_id, failure_stack(error))
        return Taken(Verdict.PARKED, str(row_id))


    async def _apologise(self, uow: Any, raw: dict[str, Any]) -> tuple[str, str] | None:
        """Tell the person whose update was parked (in their private chat, never in a group); for a
        tap, return the query's id and the alert that answers it. ``raw`` may be malformed."""
        body = raw.get(kind_of(raw))
        if not isinstance(body, dict):
            return None
        sender = body.get("from")
        person = sender.get("id") if isinstance(sender, dict) else None
        if type(person) is not int or not 0 < person <= TELEGRAM_ID_MAX:
            return None
        deps = self.application.bot_data.deps
        tell = deps.tell(uow)
        user = await uow.users.by_telegram_id(person)
        query_id = body.get("id") if "chat_instance" in body else None
        if isinstance(query_id, str):
            return query_id, tell.tr(user)(COULD_NOT_HANDLE)
        chat = body.get("chat")
        if isinstance(chat, dict) and chat.get("type") == "private" and chat.get("id") == person:
            await tell.could_not_handle(person, user)
        return None


class _Stoppable:
    """A background loop that can be told to stop while it waits."""

    def __init__(self) -> None:
        self._stopping = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; True if told to stop meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self.stopping


# -- long polling --------------------------------------------------------------------------------
class Poller(_Stoppable):
    """Long polling that confirms each update only once it and every earlier one was handled or
    parked. Updates of different chats and people are handled side by side (``[ingest]
    concurrency`` at a time), those sharing a chat or a person in ``update_id`` order
    (:mod:`bot.adapters.lanes`); a held update holds back its own lanes only."""

    def __init__(self, application: AnyApplication, *, allowed_updates: list[str], timeout: int = 10,
                 concurrency: int | None = None, backoff: Callable[[int], float] = retry_delay) -> None:
        super().__init__()
        self.application = application
        self.intake = Intake(application)
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.backoff = backoff  # seconds before attempt n + 1 of a held update
        self.lanes = Lanes(concurrency or application.bot_data.deps.settings.ingest.concurrency)
        self.confirmations = Confirmations()
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._progress = asyncio.Event()  # an update finished (or was left): its lanes moved on
        self._fetching = False

    async def start(self) -> None:
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._loop(), name="poller")

    async def stop(self) -> None:
        """Finish the updates being handled, leave the rest unconfirmed, then stop (a pending long
        poll is cut short)."""
        self._stopping.set()
        if self._task is None:
            return
        if self._fetching:
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _fetch(self, offset: int | None, timeout: int) -> list[Any]:  # noqa: ASYNC109 - getUpdates' long poll
        """Raw updates, unparsed: ``Bot.get_updates`` parses the whole batch and fails on any one.
        ``getupdates`` in lower case (Bot API method names are case-insensitive) because PTB warns
        when ``do_api_request`` is used for a method it has."""
        result = await self.application.bot.do_api_request(
            "getupdates", api_kwargs={"offset": offset, "timeout": timeout, "allowed_updates": self.allowed_updates},
            read_timeout=timeout + 10)
        return result if isinstance(result, list) else []

    async def _loop(self) -> None:
        failures = 0
        try:
            while not self.stopping:
                # While updates are in flight, Telegram answers at once with them again (the offset
                # stays at the lowest unfinished one): no long poll then, and see below.
                busy = self.confirmations.unfinished > 0
                offset = self.confirmations.offset
                self._progress.clear()
                try:
                    self._fetching = True
                    batch = await self._fetch(offset, 0 if busy else self.timeout)
                except RetryAfter as error:
                    self.intake.metrics.flood_waits.labels("polling").inc()
                    await self._pause(retry_after_seconds(error))
                    continue
                except (InvalidToken, EndPointNotFound):
                    log.error("polling: the bot token was rejected")
                    raise
                except (NetworkError, Conflict, TelegramError) as error:
                    failures += 1
                    log.warning("polling failed (%s); retrying", type(error).__name__)
                    await self._pause(min(MAX_BACKOFF, 0.5 * 2 ** failures))
                    continue
                finally:
                    self._fetching = False
                failures = 0
                self.intake.metrics.received(self.application.bot_data.deps.clock())
                self.confirmations.asked(offset)
                if not self._take(batch) and busy:
                    await self._settle()
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # stop() cut the long poll short; finish below
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        offset = self.confirmations.offset
        if offset is not None:  # tell Telegram what was handled before stopping
            with contextlib.suppress(TelegramError):
                await self._fetch(offset, 0)

    def _take(self, batch: list[Any]) -> int:
        """Start handling the batch's deliveries not already being handled or handled (see
        :class:`Confirmations`); how many."""
        fresh = 0
        copies: Counter[int] = Counter()
        for raw in batch:
            update_id = update_id_of(raw)
            if update_id is None:
                log.warning("polling: an item without a valid update id was skipped")
                continue
            copies[update_id] += 1
            if self.confirmations.begun(update_id) >= copies[update_id]:
                continue
            self.confirmations.begin(update_id)
            task = asyncio.create_task(self._handle(raw, update_id), name=f"update-{update_id}")
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
            fresh += 1
        return fresh

    async def _settle(self) -> None:
        """Nothing new came: wait until an update finishes (then its lanes' next ones may have come),
        or a moment (an update held by a passing failure must not keep other chats waiting long)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SETTLE_SECONDS):
                await self._progress.wait()

    async def _handle(self, raw: dict[str, Any], update_id: int) -> None:
        """Take one update, in its turn, until it is handled or parked; left unconfirmed if the bot
        stops first."""
        done = False
        try:
            async with self.lanes.turn(update_id, keys_of(raw)) as turn:
                attempt = 0
                while not self.stopping:
                    async with turn.attempt():
                        if self.stopping:
                            break
                        taken = await self.intake.take(raw)
                    if taken.verdict is not Verdict.RETRY:
                        if attempt:
                            log.warning("update %s %s after %d failed attempts", update_id, taken.verdict.value,
                                        attempt)
                        done = True
                        return
                    attempt += 1
                    delay = self.backoff(attempt)
                    if attempt == 1 or attempt % 20 == 0:
                        log.warning("update %s failed for a passing reason (%s, attempt %d); held and tried again, "
                                    "next in %.2f s", update_id, taken.detail, attempt, delay)
                    await self._pause(delay)
        except Exception as error:  # noqa: BLE001 - not expected (take judges handler errors): try again later
            log.error("update %s: handling failed unexpectedly (%s); left for the next batch", update_id,
                      describe_failure(error))
        finally:
            if done:
                self.confirmations.finish(update_id)
            else:
                self.confirmations.leave(update_id)
            self._progress.set()


# -- webhook -------------------------------------------------------------------------------------
def parse_body(body: bytes) -> dict[str, Any] | None:
    """The raw update a webhook body holds, or None (invalid JSON, not an object, no update id)."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return raw if update_id_of(raw) is not None else None


class WebhookReceiver:
    """A webhook endpoint on the path of the webhook's URL that answers 200 only once the update was
    handled or parked.

    It refuses to start without a secret token (:func:`bot.settings.require_webhook`). A missing
    or wrong ``X-Telegram-Bot-Api-Secret-Token`` gets 403 (compared in constant time); a body that
    is not an update gets 400; a transient failure is retried for :data:`WEBHOOK_PATIENCE` seconds,
    then answered 503 so Telegram delivers the update again. Telegram may open several requests at
    once: they are handled in the same lanes as polled updates (:mod:`bot.adapters.lanes`), so two
    updates of one chat never overlap and go in ``update_id`` order; one that waited behind an
    update answered 503 is answered 503 too, so it does not overtake it.
    """

    def __init__(self, application: AnyApplication, settings: WebhookSettings, *, allowed_updates: list[str],
                 concurrency: int | None = None) -> None:
        self.secret = require_webhook(settings)
        self.application = application
        self.intake = Intake(application)
        self.settings = settings
        self.allowed_updates = allowed_updates
        self.lanes = Lanes(concurrency or application.bot_data.deps.settings.ingest.concurrency)
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        routes = [(self.settings.served_path, _UpdateHandler, {"receiver": self})]
        self._server = HTTPServer(TornadoApplication(routes, log_function=lambda handler: None))
        self._server.listen(self.settings.port, address=self.settings.listen)
        await self.application.bot.set_webhook(url=self.settings.url, secret_token=self.secret,
                                               allowed_updates=self.allowed_updates, drop_pending_updates=False)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    async def handle(self, body: bytes, secret: str | None) -> int:
        """The HTTP status for one POST."""
        if not hmac.compare_digest((secret or "").encode(), self.secret.encode()):
            log.warning("webhook: request with a missing or wrong secret token refused")
            return 403
        self.intake.metrics.received(self.application.bot_data.deps.clock())
        raw = parse_body(body)
        if raw is None:
            log.warning("webhook: a body that is not an update refused")
            return 400
        async with self.lanes.turn(raw["update_id"], keys_of(raw)) as turn:
            if turn.after_failure:
                turn.failed = True
                log.warning("webhook: update %s waited behind one answered 503; answered 503 too, to keep its "
                            "chat's order", raw["update_id"])
                return 503
            return await self._take(raw, turn)

    async def _take(self, raw: dict[str, Any], turn: TurnHandle) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WEBHOOK_PATIENCE
        attempt = 0
        while True:
            async with turn.attempt():
                taken = await self.intake.take(raw)
            if taken.verdict is not Verdict.RETRY:
                return 200
            attempt += 1
            delay = retry_delay(attempt)
            if attempt == 1:
                log.warning("webhook: update %s failed for a passing reason (%s); trying again", raw["update_id"],
                            taken.detail)
            if loop.time() + delay > deadline:
                log.warning("webhook: update %s failed for a passing reason (%s); answered 503 so Telegram "
                            "delivers it again", raw["update_id"], taken.detail)
                turn.failed = True
                return 503
            await asyncio.sleep(delay)


class _UpdateHandler(RequestHandler):
    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    async def post(self) -> None:
        self.set_status(await self.receiver.handle(self.request.body, self.request.headers.get(SECRET_HEADER)))

    def check_xsrf_cookie(self) -> None:  # Telegram sends no cookies; the secret token is the check
        return None


# -- parked updates: replays an operator asked for, and the retention period ---------------------
class ParkedUpdates(_Stoppable):
    """Replays parked updates an operator queued (``volunteer-loop updates replay ID``) through the
    same :class:`Intake` — an update already handled is a no-op — and deletes parked updates older
    than ``[ingest] parked_retention_days``."""

    def __init__(self, application: AnyApplication) -> None:
        super().__init__()
        self.application = application
        self.intake = Intake(application)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="parked-updates")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        failing = False
        while not self.stopping:
            try:
                if loop.time() >= next_prune:
                    await self.prune()
                    next_prune = loop.time() + PRUNE_INTERVAL
                await self.replay_queued()
                failing = False
            except Exception as error:  # noqa: BLE001 - the database may be away; the next tick retries
                if not failing:  # once per run of failures, not every tick of an outage
                    log.warning("parked updates: %s; trying again every %.0f s", type(error).__name__,
                                REPLAY_INTERVAL)
                failing = True
            await self._pause(REPLAY_INTERVAL)

    async def replay_queued(self, limit: int = 20) -> None:
        async with self.intake.uow() as uow:
            rows = [(row.id, row.update_id, row.payload) for row in await uow.parked.replays(limit)]
        for row_id, update_id, raw in rows:
            if self.stopping:
                return
            taken = await self.intake.take(raw)
            if taken.verdict is Verdict.HANDLED:
                async with self.intake.uow() as uow:
                    await uow.parked.forget(update_id)
                    await uow.commit()
                log.warning("parked update #%s (update %s) replayed and deleted", row_id, update_id)

    async def prune(self) -> None:
        deps = self.application.bot_data.deps
        days = deps.settings.ingest.parked_retention_days
        async with deps.uow() as uow:
            pruned = await uow.parked.prune(uow.now() - timedelta(days=days))
            await uow.commit()
        if pruned:
            log.warning("%d parked update(s) older than %d days deleted", pruned, days)
