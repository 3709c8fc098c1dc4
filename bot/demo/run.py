"""``volunteer-loop demo``: the sandbox, the real bot against it on embedded SQLite, the district,
and the page, in one process, offline, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.adapters.app import build_application, service_config
from bot.adapters.runner import running
from bot.demo.district import HISTORY_DAYS, District, SeedClock, build_chats, seed_database, settle
from bot.demo.page import DemoPage
from bot.i18n import I18n
from bot.settings import Settings
from sandbox import SandboxServer
from storage.clock import utc_now
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

DATABASE_FILE = "demo.sqlite3"


def demo_settings(server: SandboxServer, database: Path, *, admin: int, coordinators_chat: int,
                  language: str) -> Settings:
    """The bot's settings, built in code: the sandbox's token and URLs, the district's admin and
    coordinators' group; the outbox keeps Telegram's limits, which the sandbox enforces."""
    return Settings(telegram={"token": server.token, "base_url": server.bot_api_url, "base_file_url": server.file_url},
                    database={"url": f"sqlite+aiosqlite:///{database}"}, admins=[admin],
                    coordinators_chat_id=coordinators_chat, default_language=language)


def fresh_database(directory: Path) -> Path:
    """The demo's database file in ``directory``; one left by an earlier run is removed (the sandbox
    it belonged to is gone with its process)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DATABASE_FILE
    for leftover in (path, path.with_name(DATABASE_FILE + "-wal"), path.with_name(DATABASE_FILE + "-shm")):
        leftover.unlink(missing_ok=True)
    return path


async def run_demo(directory: Path | None, port: int, language: str, *, stop: asyncio.Event | None = None) -> None:
    """Run the demo; prints one line with the page's URL once everything is ready."""
    with contextlib.ExitStack() as stack:
        where = directory or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="volunteer-loop-demo-")))
        await _run(fresh_database(where), port, language, stop or _stop_on_signals())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(database: Path, port: int, language: str, stop: asyncio.Event) -> None:
    async with SandboxServer() as server:
        district, plan = build_chats(server, language)
        settings = demo_settings(server, database, admin=district.admin, coordinators_chat=district.coordinators_chat,
                                 language=language)
        await _seed(settings, server, plan, district, language)
        application = build_application(settings)
        async with running(application):
            page = DemoPage(district, server.base_url, server.token, language)
            # The page's long polls end at once on stop: a closed tab's request holds nothing up.
            runner = web.AppRunner(page.app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", port)
                await site.start()
                url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
                _ = I18n().translator(language)
                print(_("Volunteer Loop demo: {url} (Ctrl+C to stop)", url=url), flush=True)
                await stop.wait()
            finally:
                await runner.cleanup()


async def _seed(settings: Settings, server: SandboxServer, plan: dict[str, Any], district: District,
                language: str) -> None:
    """The district's database, migrated: roles, teams and history (see :mod:`bot.demo.district`)."""
    now = utc_now()
    clock = SeedClock(now - dt.timedelta(days=HISTORY_DAYS))
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)

        def uow() -> UnitOfWork:
            return UnitOfWork(sessions, clock=clock)

        config = service_config(settings)
        await seed_database(uow, clock, server, plan, config=config, language=language)
        await settle(uow, clock, now, district, config=config)
    finally:
        await engine.dispose()
