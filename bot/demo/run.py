"""``volunteer-loop demo``: the sandbox, the district, the real bot and the page, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from pathlib import Path

from bot.adapters.app import build_application, service_config
from bot.adapters.runner import running
from bot.demo.district import populate_database, populate_sandbox
from bot.demo.page import DemoPage
from bot.i18n import N_, I18n
from bot.settings import Settings
from sandbox.server import SandboxServer
from storage.clock import Clock, utc_now
from storage.db import create_engine
from storage.migrate import upgrade

READY = N_("Volunteer Loop demo: {url} — open it in a browser and pick a person. Ctrl+C stops it.")


def demo_settings(server: SandboxServer, database_url: str, admin: int, coordinators_chat: int,
                  language: str) -> Settings:
    """The bot's settings for the demo: the sandbox as Telegram, the demo's own SQLite file."""
    return Settings(telegram={"token": server.token, "base_url": server.bot_api_url,
                              "base_file_url": server.file_url},
                    database={"url": database_url}, admins=[admin], coordinators_chat_id=coordinators_chat,
                    default_language=language)


async def run_demo(directory: Path | None, port: int, language: str, *, clock: Clock = utc_now) -> None:
    """Until SIGINT or SIGTERM; the database stays in ``directory`` (a temporary one by default)."""
    with contextlib.ExitStack() as stack:
        folder = directory or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="volunteer-loop-demo-")))
        folder.mkdir(parents=True, exist_ok=True)
        database = folder / "demo.sqlite3"
        database.unlink(missing_ok=True)  # every demo starts from the same district
        async with SandboxServer() as server:
            district = populate_sandbox(server, language)
            settings = demo_settings(server, f"sqlite+aiosqlite:///{database}", district.admin,
                                     district.coordinators_chat, language)
            engine = create_engine(settings.database.url)
            try:
                await upgrade(engine)
                await populate_database(engine, district, service_config(settings), language, clock())
            finally:
                await engine.dispose()
            application = build_application(settings, clock=clock)
            page = DemoPage(server, district, language)
            async with running(application):
                url = await page.start(port)
                try:
                    print(I18n().gettext(language, READY, url=url), flush=True)
                    await _until_stopped()
                finally:
                    await page.stop()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main(directory: str | None, port: int, language: str) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # the page is the show: only what goes wrong is logged
    asyncio.run(run_demo(Path(directory) if directory else None, port, language))
    return 0
