"""Telegram's side of receiving updates, scripted: the real application, Poller and Intake run
against it, and a test handler (first of all handler groups) plays what each update does.

:class:`ScriptedTelegram` is a python-telegram-bot transport (the boundary, as in PTB's own tests):
``getUpdates`` serves the updates a test has released, from the requested offset on, forgets those
below it as Telegram does, and records every offset, which :class:`Scenario` checks against the
updates still unfinished at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.adapters.app import ALLOWED_UPDATES, BotApplication, build_application
from bot.adapters.ingest import Poller
from bot.adapters.lanes import keys_of
from bot.settings import Settings
from tests.support.clocks import JumpClock

TOKEN = "123456:scripted-telegram"
BOT = {"id": 123456, "is_bot": True, "first_name": "Loop", "username": "loop_bot"}


def message(update_id: int, chat_id: int, user_id: int, text: str = "hello") -> dict[str, Any]:
    """A text message by ``user_id`` in ``chat_id`` (private when they are equal, else a group)."""
    chat = ({"id": chat_id, "type": "private", "first_name": "P"} if chat_id == user_id
            else {"id": chat_id, "type": "supergroup", "title": "G"})
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "chat": chat, "text": text,
                                                "from": {"id": user_id, "is_bot": False, "first_name": "P"}}}


def tap(update_id: int, chat_id: int, user_id: int) -> dict[str, Any]:
    """A tap by ``user_id`` on a message the bot sent in ``chat_id``."""
    chat = ({"id": chat_id, "type": "private", "first_name": "P"} if chat_id == user_id
            else {"id": chat_id, "type": "supergroup", "title": "G"})
    return {"update_id": update_id, "callback_query": {
        "id": f"q{update_id}", "chat_instance": "ci", "data": "x",
        "from": {"id": user_id, "is_bot": False, "first_name": "P"},
        "message": {"message_id": 1, "date": 0, "chat": chat, "from": BOT, "text": "card"}}}


class ScriptedTelegram(BaseRequest):
    """The Bot API as the poller sees it (see the module docstring)."""

    def __init__(self, on_offset: Callable[[int | None], None] = lambda offset: None, *, latency: int = 0) -> None:
        self.pending: list[dict[str, Any]] = []  # released and not yet confirmed, in id order
        self.offsets: list[int | None] = []
        self.on_offset = on_offset
        self.latency = latency  # event loop turns a getUpdates takes: handlers finish meanwhile
        self._arrived = asyncio.Event()

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def release(self, *updates: dict[str, Any]) -> None:
        self.pending.extend(updates)
        self.pending.sort(key=lambda raw: raw["update_id"])
        self._arrived.set()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        api = url.rsplit("/", 1)[-1].lower()
        params = request_data.parameters if request_data else {}
        result: Any = True
        if api == "getme":
            result = BOT
        elif api == "getupdates":
            result = await self._get_updates(params.get("offset"), float(params.get("timeout") or 0))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    async def _get_updates(self, offset: Any, timeout: float) -> list[dict[str, Any]]:
        self.offsets.append(offset)
        self.on_offset(offset)
        if offset is not None:  # confirmed: Telegram forgets them
            self.pending = [raw for raw in self.pending if raw["update_id"] >= offset]
        for _ in range(self.latency):
            await asyncio.sleep(0)
        if not self.pending and timeout > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return list(self.pending)


Play = Callable[[Update, int], Awaitable[None]]  # what an update's handler does on its n-th attempt


@dataclass
class Record:
    """What the handlers saw: attempts and completions in order, overlaps of updates sharing a lane."""

    started: list[int] = field(default_factory=list)
    handled: list[int] = field(default_factory=list)
    attempts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    active: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # lane → updates in a handler
    overlaps: list[tuple[int, int]] = field(default_factory=list)
    max_in_flight: int = 0
    in_flight: int = 0


def record_handler(record: Record, play: Play) -> TypeHandler[Update, None]:
    """The first handler of all: records the attempt, plays it, and stops the update there."""

    async def handle(update: Update, context: object) -> None:
        raw = update.to_dict()
        keys = keys_of(raw)
        record.attempts[update.update_id] += 1
        record.started.append(update.update_id)
        for key in keys:
            record.overlaps.extend((other, update.update_id) for other in record.active[key])
            record.active[key].add(update.update_id)
        record.in_flight += 1
        record.max_in_flight = max(record.max_in_flight, record.in_flight)
        try:
            await play(update, record.attempts[update.update_id])
            record.handled.append(update.update_id)
        finally:
            record.in_flight -= 1
            for key in keys:
                record.active[key].discard(update.update_id)
        raise ApplicationHandlerStop

    return TypeHandler(Update, handle)


@contextlib.asynccontextmanager
async def application_on(telegram: BaseRequest, tmp_path: Path, *, concurrency: int) -> AsyncIterator[BotApplication]:
    """The real application on a scripted Telegram, initialised (no sender or sweep: no handler
    of these tests writes a message)."""
    settings = Settings(telegram={"token": TOKEN}, database={"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"},
                        ingest={"concurrency": concurrency})
    application = build_application(settings, request=telegram, clock=JumpClock())
    await application.initialize()
    try:
        yield application
    finally:
        await application.shutdown()
        deps = application.bot_data.deps
        assert deps is not None
        await deps.engine.dispose()


@contextlib.asynccontextmanager
async def polling(application: BotApplication) -> AsyncIterator[Poller]:
    """The real poller, retrying a held update at once (the backoff's length is not under test)."""
    poller = Poller(application, allowed_updates=ALLOWED_UPDATES, backoff=lambda attempt: 0.0)
    await poller.start()
    try:
        yield poller
    finally:
        await poller.stop()


async def until(condition: Callable[[], bool], what: str, *, timeout: float = 10.0) -> None:
    """Yield to the bot until ``condition`` holds; the timeout only bounds a failing test."""
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.001)
    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"{what}: not reached") from None
