"""Receiving updates when something goes wrong (bot.adapters.ingest), polling and webhook:

* an update python-telegram-bot cannot parse is parked (its contents never logged) and confirmed,
  and the bot goes on answering — before, it stopped polling for good;
* the database stopped for a few seconds in the middle of residents' dialogs: the tap and the
  messages sent meanwhile are each answered once it is back, nothing is parked or duplicated —
  before, they were confirmed to Telegram and lost;
* a handler bug parks the update and the bot goes on; the operator lists it (without contents),
  replays it with ``volunteer-loop updates replay`` once the bug is gone, or drops it; a replay of
  an update already handled does nothing;
* parked updates are deleted after ``[ingest] parked_retention_days``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.adapters.app import BotApplication
from bot.cli import migrate
from bot.views.common import COULD_NOT_HANDLE, MENU_NEW_REQUEST
from sandbox import SandboxClient, SandboxServer
from storage.db import create_engine, session_factory
from storage.models import Order, ParkedUpdate
from storage.uow import UnitOfWork
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DESCRIBE,
    begin_request,
    bot_running,
    cast_of,
    fill_request,
    make_settings,
    order_number,
    outbox_drained,
    tr,
    wait_text,
)
from tests.support.clocks import FIXED_START
from tests.support.dbfixtures import FakeClock, in_both_languages
from tests.support.dboutage import database_outage

MODES = pytest.mark.parametrize("mode", ["polling", "webhook"])
PHONE = "13912345678"
ROOT = Path(__file__).resolve().parents[2]


async def parked_rows(application: BotApplication) -> list[ParkedUpdate]:
    deps = application.bot_data.deps
    assert deps is not None
    async with deps.uow() as uow:
        rows = list(await uow.parked.all())
        uow.session.expunge_all()  # readable after the unit of work (which rolls back) ends
        return rows


async def eventually(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll an async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)


def update_confirmed(server: SandboxServer, update_id: int) -> bool:
    """Telegram (the sandbox) no longer holds the update: it was confirmed or answered 2xx."""
    return all(entry.update_id != update_id for entry in server.feed.queue)


@MODES
async def test_unparseable_update_is_parked_and_the_bot_goes_on(server: SandboxServer, sandbox: SandboxClient,
                                                              database_url: str, mode: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    async with bot_running(settings, mode) as application:
        await cast.resident.start()
        await wait_text(cast.resident, _("New request"))
        # A message PTB cannot parse (no chat, no date), carrying another resident's phone number,
        # followed at once by an ordinary message in the same batch.
        poison = await sandbox.inject("message", {"message_id": 7, "text": f"call me {PHONE}",
                                                  "from": {"id": 42, "is_bot": False, "first_name": "Fang"}})
        await cast.resident.press(_(MENU_NEW_REQUEST))
        await wait_text(cast.resident, _("What kind of help do you need?"))
        [row] = await eventually(lambda: parked_rows(application), what="a parked update")
        assert (row.update_id, row.kind, row.error_type, row.state) == (poison, "message", "unparseable", "parked")
        assert PHONE not in row.reason and row.payload["message"]["text"] == f"call me {PHONE}"
        assert update_confirmed(server, poison)
    assert PHONE not in caplog.text, "update contents reached the log"
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    # A restarted bot is not deaf: the parked update is not delivered again, people are answered.
    async with bot_running(settings, mode) as application:
        await cast.resident.tap(_("Repair"))
        await wait_text(cast.resident, _(DESCRIBE))
        assert [r.update_id for r in await parked_rows(application)] == [poison]


@MODES
@in_both_languages
async def test_database_outage_in_the_middle_of_dialogs_loses_nothing(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, tmp_path: Path, mode: str, language: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _ = tr(language)
    cast = await cast_of(sandbox, language)
    rita = cast.resident
    sam = await sandbox.create_user("Sam", language_code=rita.language_code, phone_number="+8613800000002")
    async with database_outage(database_url, tmp_path) as outage:
        settings = make_settings(server, outage.url, admins=[cast.admin.id], coordinators_chat_id=None)
        async with bot_running(settings, mode) as application:
            deps = application.bot_data.deps
            assert deps is not None
            summary = await fill_request(rita, language)  # Rita's summary shows the confirm buttons
            await begin_request(sam, language)

            # (A send the outage interrupts between Telegram's answer and the row's "sent" mark is
            # the outbox's business — sent again once its claim runs out — not this test's.)
            await outbox_drained(application)
            await outage.cut(deps.engine)
            tap = await rita.tap(_(CONFIRM_TODAY), message_id=summary.message_id)
            await sam.send("窗户关不上 the window will not close")
            await sam.send("阳光小区 Sunshine")  # typed ahead: the answer to the next question
            # The bot receives the tap while the database is away, and keeps failing for a while
            # (polling holds everything after it; the webhook gets the messages too).
            await eventually(lambda: _delivered(server, [tap.update_id]), what="delivery")
            await asyncio.sleep(2.5)
            await outage.restore()

            answer = await sandbox.callback_answer(tap.callback_query_id, timeout=20)
            assert answer.answered and not answer.show_alert, answer
            number = await order_number(rita, language)
            await wait_text(sam, _(BUILDING_Q), timeout=20)
            await outbox_drained(application)
            rita_texts = [m.text or "" for m in (await rita.chat()).bot_messages]
            sam_texts = [m.text or "" for m in (await sam.chat()).bot_messages]
            assert sum(f"#{number}" in text for text in rita_texts) == 1, rita_texts
            for question in (COMMUNITY_Q, BUILDING_Q):
                assert sam_texts.count(_(question)) == 1, sam_texts
            async with deps.uow() as uow:
                assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1
            assert await parked_rows(application) == []
    held = [r for r in caplog.records if r.name == "bot.adapters.ingest" and "passing reason" in r.getMessage()]
    assert held, "the bot never met the outage"
    # A few seconds' outage is a few warning lines, not tracebacks (ingest, outbox and sweep alike).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]


def _delivered(server: SandboxServer, update_ids: list[int | None]) -> Any:
    async def check() -> bool:
        return all(i is not None and server.feed.history[i].delivered for i in update_ids)
    return check()


async def volunteer_loop(config: Path, *args: str) -> tuple[int, str, str]:
    """The real command in a subprocess (without blocking the bot running in this event loop)."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("VLOOP_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *args, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@MODES
async def test_handler_bug_parks_the_update_and_the_operator_replays_or_drops_it(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, tmp_path: Path, mode: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    resident, other = cast.resident, cast.admin
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")

    async def buggy(update: Update, context: object) -> None:  # a handler bug, for some messages only
        raise RuntimeError(f"bug on {update.effective_message.text if update.effective_message else ''}")

    bug = MessageHandler(filters.Regex("kaboom"), buggy)
    async with bot_running(settings, mode) as application:
        application.add_handler(bug, group=-1)
        await begin_request(resident, "en")
        sent = await resident.send(f"kaboom: pipe burst, call {PHONE}")
        await other.start()  # the bot goes on with the next update
        await wait_text(other, _("New request"))
        [row] = await eventually(lambda: parked_rows(application), what="a parked update")
        await wait_text(resident, _(COULD_NOT_HANDLE))  # told, not left wondering
        assert (row.update_id, row.kind, row.error_type) == (sent["update_id"], "message", "RuntimeError")
        assert "test_ingest_failures.py" in row.reason and PHONE not in row.reason
        assert update_confirmed(server, sent["update_id"])

        status, listing, _err = await volunteer_loop(config, "updates", "parked")
        assert status == 0 and f"#{row.id}  update {row.update_id}  message  RuntimeError" in listing, listing
        assert PHONE not in listing and "kaboom" not in listing

        application.remove_handler(bug, group=-1)  # the bug is fixed
        status, out, _err = await volunteer_loop(config, "updates", "replay", str(row.id))
        assert status == 0 and "queued" in out, (out, _err)
        await wait_text(resident, _(COMMUNITY_Q))
        await eventually(lambda: _none_parked(application), what="the replayed update deleted")

        # Replaying (or redelivering) an update already handled does nothing.
        await sandbox.redeliver(sent["update_id"])
        await eventually(lambda: _ignored(caplog, sent["update_id"]), what="the redelivery ignored")
        status, _out, err = await volunteer_loop(config, "updates", "replay", str(row.id))
        assert status == 2 and err.strip() == f"volunteer-loop: no parked update #{row.id} (see `volunteer-loop " \
                                              "updates parked`)", err

        application.add_handler(bug, group=-1)  # a bug that stays: the update is dropped
        dropped = await resident.send("kaboom again")
        [row] = await eventually(lambda: parked_rows(application), what="a second parked update")
        assert row.update_id == dropped["update_id"]
        status, out, _err = await volunteer_loop(config, "updates", "drop", str(row.id))
        assert status == 0 and out.strip() == f"parked update #{row.id} deleted"
        assert await parked_rows(application) == []
        community_questions = [m for m in (await resident.chat()).bot_messages
                               if m.text == _(COMMUNITY_Q)]
        assert len(community_questions) == 1
    assert PHONE not in caplog.text


async def _none_parked(application: BotApplication) -> bool:
    return await parked_rows(application) == []


async def _ignored(caplog: pytest.LogCaptureFixture, update_id: int) -> bool:
    return any(r.getMessage() == f"update {update_id} already handled; ignored" for r in caplog.records)


async def test_parked_updates_are_deleted_after_the_retention_period(server: SandboxServer, sandbox: SandboxClient,
                                                                     database_url: str) -> None:
    """They hold what people sent: ``[ingest] parked_retention_days`` after parking, they are gone."""
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             ingest={"parked_retention_days": 3})
    await migrate(settings)
    engine = create_engine(database_url)
    try:
        for update_id, days_ago in ((1, 4), (2, 2)):
            clock = FakeClock(FIXED_START - dt.timedelta(days=days_ago))
            async with UnitOfWork(session_factory(engine), clock=clock) as uow:
                await uow.parked.park(update_id, "message", "unparseable", "KeyError", {"update_id": update_id})
                await uow.commit()
    finally:
        await engine.dispose()
    async with bot_running(settings, "polling") as application:
        await eventually(lambda: _parked_ids(application, [2]), what="the old parked update pruned")


async def _parked_ids(application: BotApplication, expected: list[int]) -> bool:
    return [row.update_id for row in await parked_rows(application)] == expected


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_tap_whose_handler_fails_is_answered_and_parked(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, mode: str) -> None:
    """A bug behind a button: the tap still gets an answer (an alert), the update is parked."""
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    resident = cast.resident
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)

    async def buggy(update: Update, context: object) -> None:
        raise RuntimeError("a bug behind the category buttons")

    async with bot_running(settings, mode) as application:
        application.add_handler(CallbackQueryHandler(buggy, pattern="^cat:"), group=-1)
        await resident.start()
        await wait_text(resident, _("New request"))
        await resident.press(_(MENU_NEW_REQUEST))
        await wait_text(resident, _("What kind of help do you need?"))
        answer = await resident.tap_and_read_answer(_("Repair"))
        assert answer.text == _(COULD_NOT_HANDLE) and answer.show_alert, answer
        [row] = await eventually(lambda: parked_rows(application), what="the parked tap")
        assert (row.kind, row.error_type) == ("callback_query", "RuntimeError")


async def test_a_failure_that_only_looks_passing_is_parked_once_the_database_answers(
        server: SandboxServer, sandbox: SandboxClient, database_url: str) -> None:
    """A handler that always raises OSError (a bug dressed as an outage) does not hold polling:
    after ``stuck_after_attempts`` tries with the database answering, the update is parked."""
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    resident, other = cast.resident, cast.admin
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             ingest={"stuck_after_attempts": 3})

    async def looks_passing(update: Update, context: object) -> None:
        raise OSError("a bad file, every time")

    async with bot_running(settings, "polling") as application:
        application.add_handler(MessageHandler(filters.Regex("stuck"), looks_passing), group=-1)
        await resident.start()
        await wait_text(resident, _("New request"))
        sent = await resident.send("stuck")
        await other.start()  # handled once the stuck update is parked
        await wait_text(other, _("New request"))
        [row] = await eventually(lambda: parked_rows(application), what="the stuck update parked")
        assert (row.update_id, row.error_type) == (sent["update_id"], "OSError")
        await wait_text(resident, _(COULD_NOT_HANDLE))


@MODES
async def test_a_held_chat_does_not_hold_the_others_and_keeps_its_own_order(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, mode: str) -> None:
    """A passing failure on the resident's message holds her next message behind it, not another
    person's /start; once it passes, hers are handled in the order she sent them."""
    _ = tr("en")
    cast = await cast_of(sandbox, "en")
    resident, other = cast.resident, cast.admin
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    outage_over = asyncio.Event()
    handled: list[int] = []

    async def flaky(update: Update, context: object) -> None:
        if not outage_over.is_set():
            raise OSError("the database is away, for this chat's update only")
        handled.append(update.update_id)

    async with bot_running(settings, mode) as application:
        application.add_handler(MessageHandler(filters.Regex("^held"), flaky), group=-1)
        await resident.start()
        await wait_text(resident, _("New request"))
        first = await resident.send("held 1")
        second = await resident.send("held 2")
        # (Polling gets both at once; the sandbox, as Telegram, pushes a chat's next update to a
        # webhook only once the one before was answered.)
        await eventually(lambda: _delivered(server, [first["update_id"]]), what="delivery")
        await other.start()
        await wait_text(other, _("New request"))  # answered while the resident's chat is held
        assert handled == []
        outage_over.set()
        await eventually(lambda: _both(handled), what="the held messages handled", timeout=20)
        assert handled == [first["update_id"], second["update_id"]]
        await eventually(lambda: _confirmed(server, handled), what="both confirmed", timeout=20)


async def _both(handled: list[int]) -> bool:
    return len(handled) >= 2


async def _confirmed(server: SandboxServer, update_ids: list[int]) -> bool:
    return all(update_confirmed(server, update_id) for update_id in update_ids)
