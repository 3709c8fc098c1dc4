"""Receiving updates so that Telegram is told "received" only after an update was handled.

python-telegram-bot's own Updater confirms a polled batch as soon as it is fetched, and its webhook
answers 200 before any handler runs; a ``kill -9`` in between loses what a person just typed. Here
an update is confirmed (the next ``getUpdates`` offset) or answered (HTTP 200) only after
``Application.process_update`` has run its handlers, whose effects commit together with the
update's id. A crash before that makes Telegram deliver the update again, and the id in the
database turns any second delivery of an already handled update into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Any

from telegram import Update
from telegram.error import (
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from .outbox import retry_after_seconds
from .settings import WebhookSettings

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
AnyApplication = Any  # telegram.ext.Application with our context types


class Poller:
    """Long polling that acknowledges each update only once its handlers have finished."""

    def __init__(self, application: AnyApplication, *, allowed_updates: list[str], timeout: int = 10) -> None:
        self.application = application
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._fetching = False

    async def start(self) -> None:
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._loop(), name="poller")

    async def stop(self) -> None:
        """Finish the update being handled, then stop (a pending long poll is cut short)."""
        self._stopping = True
        if self._task is None:
            return
        if self._fetching:
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        bot = self.application.bot
        offset: int | None = None
        failures = 0
        while not self._stopping:
            try:
                self._fetching = True
                updates = await bot.get_updates(offset=offset, timeout=self.timeout,
                                                allowed_updates=self.allowed_updates,
                                                read_timeout=self.timeout + 10)
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except InvalidToken:
                log.error("polling: the bot token was rejected")
                raise
            except (NetworkError, Conflict, TelegramError) as error:
                failures += 1
                log.warning("polling failed (%s); retrying", type(error).__name__)
                await asyncio.sleep(min(MAX_BACKOFF, 0.5 * 2 ** failures))
                continue
            finally:
                self._fetching = False
            failures = 0
            for update in updates:
                await self.application.process_update(update)
                offset = update.update_id + 1  # confirmed by the next getUpdates, after handling
        if offset is not None:  # tell Telegram what was handled before stopping
            with contextlib.suppress(TelegramError):
                await bot.get_updates(offset=offset, timeout=0, allowed_updates=self.allowed_updates)


class WebhookReceiver:
    """A webhook endpoint that answers 200 only after the update was handled.

    A missing or wrong ``X-Telegram-Bot-Api-Secret-Token`` gets 403 (compared in constant time);
    a body that is not an update gets 400; a failure while handling gets 500, so Telegram retries.
    """

    def __init__(self, application: AnyApplication, settings: WebhookSettings, *, allowed_updates: list[str]) -> None:
        self.application = application
        self.settings = settings
        self.allowed_updates = allowed_updates
        self._server: HTTPServer | None = None

    @property
    def secret(self) -> str | None:
        return self.settings.secret_token.get_secret_value() if self.settings.secret_token else None

    async def start(self) -> None:
        path = "/" + self.settings.path.strip("/")
        web = TornadoApplication([(path, _UpdateHandler, {"receiver": self})], log_function=lambda handler: None)
        self._server = HTTPServer(web)
        self._server.listen(self.settings.port, address=self.settings.listen)
        assert self.settings.url is not None
        await self.application.bot.set_webhook(url=self.settings.url, secret_token=self.secret,
                                               allowed_updates=self.allowed_updates, drop_pending_updates=False)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    async def handle(self, body: bytes, secret: str | None) -> int:
        """The HTTP status for one POST."""
        expected = self.secret
        if expected is not None and not hmac.compare_digest((secret or "").encode(), expected.encode()):
            log.warning("webhook: request with a missing or wrong secret token refused")
            return 403
        try:
            update = Update.de_json(json.loads(body), self.application.bot)
        except (ValueError, TypeError, KeyError):
            return 400
        if update is None:
            return 400
        try:
            await self.application.process_update(update)
        except Exception:
            log.exception("webhook: update %s failed; Telegram will deliver it again", update.update_id)
            return 500
        return 200


class _UpdateHandler(RequestHandler):
    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    async def post(self) -> None:
        self.set_status(await self.receiver.handle(self.request.body, self.request.headers.get(SECRET_HEADER)))

    def check_xsrf_cookie(self) -> None:  # Telegram sends no cookies; the secret token is the check
        return None

