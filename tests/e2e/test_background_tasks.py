"""What the running bot does in the background once it receives updates (bot/adapters/app.py): it
prunes (bot.services.housekeeping) and answers meanwhile, and it sets everyone's command menu."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from sqlalchemy import select

from bot.cli import migrate
from sandbox import SandboxClient, SandboxServer
from storage.db import create_engine, session_factory
from storage.models import ProcessedUpdate
from storage.uow import UnitOfWork
from tests.e2e.harness import bot_running, make_settings
from tests.support.clocks import FIXED_START


async def _keys(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            return set(await uow.session.scalars(select(ProcessedUpdate.key)))
    finally:
        await engine.dispose()


async def test_the_running_bot_prunes_old_update_ids_and_answers_meanwhile(
        server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language="en",
                             housekeeping={"processed_updates_days": 14, "batch_size": 2,
                                                           "start_delay_seconds": 0.5})
    await migrate(settings)
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:  # the bot's clock starts at FIXED_START
            for number in range(5):
                uow.session.add(ProcessedUpdate(key=f"old-{number}", seen_at=FIXED_START - dt.timedelta(days=30)))
            uow.session.add(ProcessedUpdate(key="yesterday", seen_at=FIXED_START - dt.timedelta(days=1)))
            await uow.commit()
    finally:
        await engine.dispose()
    resident = await sandbox.create_user("Rita", language_code="en")

    async with bot_running(settings, "polling"):
        await resident.start()
        assert await resident.next_message(timeout=10)  # answered while the housekeeper runs
        deadline = time.monotonic() + 10  # a bound, not a measurement
        while any(key.startswith("old-") for key in await _keys(database_url)):
            assert time.monotonic() < deadline, "the old update ids were not pruned"
            await asyncio.sleep(0.05)

    left = await _keys(database_url)
    assert "yesterday" in left and not any(key.startswith("old-") for key in left)


async def test_everyones_menu_is_set_while_the_bot_already_receives(
        server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language="en")
    resident = await sandbox.create_user("Rita", language_code="en")
    async with bot_running(settings, "polling"):
        deadline = time.monotonic() + 10  # a bound, not a measurement
        while not await sandbox.commands(resident):
            assert time.monotonic() < deadline, "no default command menu"
            await asyncio.sleep(0.05)
        assert {"command": "request", "description": "New request"} in await sandbox.commands(resident)
