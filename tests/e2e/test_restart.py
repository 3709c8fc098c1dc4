"""The kill -9 proof: the real ``python -m bot run`` in a subprocess against the sandbox, killed with
SIGKILL in the middle of the loop and started again on the same database.

* Half-way through the request dialog: the new process carries on at the step the dead one reached,
  with the answers given before the kill.
* The moment the bot answers the resident's Confirm tap (the order is committed, the resident was
  told "sent"): after the restart the order exists once, the resident gets the request number once,
  and the coordinators get the new request once.

Each runs twice: once killed after the bot confirmed the last update to "Telegram" (what PTB does
right after fetching it), and once killed before (the sandbox then delivers that update again to
the new process, which must recognise it as handled).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE
from sandbox import SandboxClient, SandboxServer
from storage.db import create_engine
from storage.models import Dialog, Order, OutboxMessage, User
from tests.e2e.clocked_bot import clock_args
from tests.e2e.harness import (
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DESCRIBE,
    DETAIL_Q,
    FAST_OUTBOX,
    Cast,
    JumpClock,
    cast_of,
    contact_question,
    tr,
    wait_text,
)

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = "zh"
START_TIMEOUT = 20.0  # a bound for a fresh interpreter to import, migrate and start polling
STOP_TIMEOUT = 10.0


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_config(path: Path, server: SandboxServer, database_url: str, cast: Cast) -> Path:
    """The TOML the operator would write: the sandbox as Telegram, the test database, fast pacing."""
    tables: dict[str, dict[str, Any]] = {
        "": {"admins": [cast.admin.id], "coordinators_chat_id": cast.coordinators_group.id,
             "default_language": LANGUAGE},
        "telegram": {"token": server.token, "base_url": server.bot_api_url, "base_file_url": server.file_url},
        "database": {"url": database_url},
        "outbox": FAST_OUTBOX.model_dump(),
    }
    lines = []
    for table, values in tables.items():
        if table:
            lines.append(f"\n[{table}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class BotProcess:
    """One ``volunteer-loop --config ... run`` (on the test's clock) with its stderr in a log file."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill9(self) -> None:
        if self.process.returncode is None:
            os.kill(self.pid, signal.SIGKILL)

    async def killed(self) -> None:
        self.kill9()
        returncode = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        assert returncode == -signal.SIGKILL, (returncode, self.log_text())

    async def stop(self) -> int:
        """SIGTERM and wait: a clean stop ends with status 0."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@dataclass
class Bots:
    """Starts bot processes on one config; kills and reaps every one of them at the end."""

    config: Path
    workdir: Path
    clock: JumpClock = field(default_factory=JumpClock)  # every process on one timeline
    started: list[BotProcess] = field(default_factory=list)

    async def start(self) -> BotProcess:
        log = self.workdir / f"bot-{len(self.started) + 1}.log"
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("VLOOP_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.e2e.clocked_bot", *clock_args(self.clock),
                "--config", str(self.config), "run",
                cwd=self.workdir, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink)
        bot = BotProcess(process, log)
        self.started.append(bot)
        return bot

    async def close(self) -> None:
        for bot in self.started:
            if bot.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    bot.process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot.process.wait(), STOP_TIMEOUT)

    def logs(self) -> str:
        return "\n".join(f"--- {b.log.name} (pid {b.pid}, exit {b.process.returncode})\n{b.log_text()}"
                         for b in self.started)


@contextlib.asynccontextmanager
async def bot_processes(config: Path, workdir: Path) -> AsyncIterator[Bots]:
    bots = Bots(config, workdir)
    try:
        yield bots
    except BaseException:
        print(bots.logs())  # shown by pytest with the failure
        raise
    finally:
        await bots.close()


@contextlib.asynccontextmanager
async def reader(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A separate engine that reads what the bot processes committed."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def query(engine: AsyncEngine, statement: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).all())


async def eventually(check: Callable[[], Awaitable[bool]], what: str, *, timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (looking every 20 ms), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting until {what}")
        await asyncio.sleep(0.02)


async def outbox_rows(engine: AsyncEngine) -> list[Any]:
    return await query(engine, select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.status,
                                      OutboxMessage.attempts, OutboxMessage.message_id).order_by(OutboxMessage.id))


async def outbox_settled(engine: AsyncEngine, *, timeout: float = 10.0) -> None:
    """Every queued message has been sent (none pending, none claimed by a sender)."""
    rows: list[Any] = []

    async def settled() -> bool:
        nonlocal rows
        rows = await outbox_rows(engine)
        return all(row.status not in ("pending", "sending") for row in rows)

    try:
        await eventually(settled, "the outbox is empty", timeout=timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}; rows (id, chat, status, attempts, message_id): {rows}") from None


async def start_request(cast: Cast) -> None:
    """The resident opens the request dialog and answers up to the community question."""
    _ = tr(LANGUAGE)
    resident = cast.resident
    await resident.start()
    await wait_text(resident, _("New request"), timeout=START_TIMEOUT)
    await resident.press(_(MENU_NEW_REQUEST))
    await wait_text(resident, _("What kind of help do you need?"))
    await resident.tap(_("Repair"))
    await wait_text(resident, _(DESCRIBE))
    await resident.send("厨房水管漏水 kitchen pipe leaks")
    await wait_text(resident, _(COMMUNITY_Q))


async def give_community(cast: Cast) -> int:
    """The resident answers the community question; returns the update id of that message."""
    sent = await cast.resident.send("阳光小区 Sunshine")
    await wait_text(cast.resident, tr(LANGUAGE)(BUILDING_Q))
    return int(sent["update_id"])


async def finish_request(cast: Cast, *, timeout: float = 10.0) -> None:
    """From the building question to the summary with its Confirm button."""
    _ = tr(LANGUAGE)
    resident = cast.resident
    await resident.send("3栋2单元")
    await wait_text(resident, _(DETAIL_Q), timeout=timeout)
    await resident.send("502室 ring twice")
    await wait_text(resident, contact_question(LANGUAGE))
    await resident.press(_(SHARE_PHONE))
    summary = await wait_text(resident, "📞")
    assert "3栋2单元" in (summary.text or "") and "阳光小区 Sunshine" in (summary.text or ""), summary


def count(sandbox_chat: Any, needle: str) -> int:
    return sum(1 for m in sandbox_chat.bot_messages if needle in (m.text or ""))


async def the_order(engine: AsyncEngine, cast: Cast) -> Order:
    """The resident's one order (read with a session of its own, so the values stay loaded)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        orders = (await session.scalars(select(Order).join(User, User.id == Order.resident_id)
                                        .where(User.telegram_id == cast.resident.id))).all()
    assert len(orders) == 1, orders
    return orders[0]


def check_order(order: Order, clock: JumpClock) -> None:
    assert order.status == "new"
    assert order.category == "repair"
    assert order.description == "厨房水管漏水 kitchen pipe leaks"
    assert order.community == "阳光小区 Sunshine"
    assert order.building == "3栋2单元"
    assert order.address_detail == "502室 ring twice"
    today = clock().astimezone(ZoneInfo("Asia/Shanghai")).date()  # "Today", in the configured time zone
    assert order.when_text in (today.isoformat(), (today - dt.timedelta(days=1)).isoformat()), order.when_text
    assert order.contact_phone == "+8613800000001" and order.contact_name == "Rita"


async def coordinators_centre(cast: Cast) -> None:
    """The admin starts the bot and adds it to the coordinators' group (where new requests go)."""
    await cast.admin.start()
    await cast.coordinators_group.add_bot(cast.admin)


def no_errors(bots: Bots) -> None:
    logs = bots.logs()
    assert "Traceback" not in logs and " ERROR " not in logs, logs


class Feed:
    """Hooks into the sandbox's Bot API in this process (the bot still sees an ordinary server).

    After :meth:`arm`, a ``getUpdates`` that would confirm an update newer than the arming is held
    when ``hold`` (it dies with the bot; aiohttp cancels the handler), so the sandbox delivers that
    update again to the next process, as Telegram does. Update ids delivered after :meth:`killed`
    are recorded. With :attr:`kill_at_answer` set, the bot gets SIGKILL the moment the sandbox has
    carried out its next ``answerCallbackQuery`` (the tap's handler has committed), before the bot
    hears the answer.
    """

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.newest_before: int | None = None
        self.hold = False
        self.kill_at_answer: BotProcess | None = None
        self.kill_at_send: tuple[BotProcess, str] | None = None  # the bot, and a text its sendMessage holds
        self.answered_query: str | None = None
        self.after_kill: list[int] | None = None
        self._original = server.api.method
        server.api.method = self._method  # type: ignore[method-assign]

    def restore(self) -> None:
        self.server.api.method = self._original  # type: ignore[method-assign]

    def arm(self, *, hold: bool) -> None:
        self.newest_before = max(self.server.feed.history, default=0)
        self.hold = hold

    def killed(self) -> None:
        self.after_kill = []
        self.hold = False

    def _confirms_new(self, offset: Any) -> bool:
        """Whether ``getUpdates(offset)`` confirms an update that arrived after :meth:`arm`."""
        return self.newest_before is not None and int(offset or 0) > self.newest_before + 1

    async def confirmed(self) -> None:
        """Wait until the bot has confirmed the updates that arrived after :meth:`arm`."""
        async def seen() -> bool:
            return any(c.method.lower() == "getupdates" and self._confirms_new(c.params.get("offset"))
                       for c in self.server.calls)

        await eventually(seen, "the bot confirmed the new update", timeout=5.0)

    def _method(self, name: str) -> Any:
        implementation = self._original(name)
        if implementation is None:
            return None
        if name.lower() == "getupdates":
            return functools.partial(self._get_updates, implementation)
        if name.lower() == "answercallbackquery":
            return functools.partial(self._answer, implementation)
        if name.lower() == "sendmessage":
            return functools.partial(self._send, implementation)
        return implementation

    async def _get_updates(self, implementation: Any, params: Any) -> Any:
        if self.hold and self._confirms_new(params.values.get("offset")):
            await asyncio.Event().wait()
        result = await implementation(params)
        if self.after_kill is not None:
            self.after_kill.extend(update["update_id"] for update in result)
        return result

    async def _send(self, implementation: Any, params: Any) -> Any:
        """With :attr:`kill_at_send`: SIGKILL the bot when it sends that text, before it is delivered
        (the row stays claimed by the dead process, as after a crash in the middle of a send)."""
        if self.kill_at_send is not None and self.kill_at_send[1] in str(params.values.get("text", "")):
            bot, self.kill_at_send = self.kill_at_send[0], None
            bot.kill9()
            self.killed()
            await asyncio.Event().wait()  # never delivered: the connection dies with the bot
        return await implementation(params)

    async def _answer(self, implementation: Any, params: Any) -> Any:
        result = await implementation(params)
        bot, self.kill_at_answer = self.kill_at_answer, None
        if bot is not None:
            # The tap's handler has committed but has not finished: the bot (bot.adapters.ingest) has not
            # confirmed the update yet, so the sandbox delivers it again after the restart.
            bot.kill9()
            self.answered_query = params.values.get("callback_query_id")
            self.killed()
        return result


@contextlib.asynccontextmanager
async def feed_hook(server: SandboxServer) -> AsyncIterator[Feed]:
    feed = Feed(server)
    try:
        yield feed
    finally:
        feed.restore()


LEASE_SECONDS = 60.0  # [outbox] lease_seconds's default, what a crashed sender's rows waited before

REDELIVERY = pytest.mark.parametrize("redelivered", [False, True], ids=["confirmed", "redelivered"])


@REDELIVERY
async def test_kill9_in_the_middle_of_the_dialog(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                                 tmp_path: Path, redelivered: bool) -> None:
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    config = write_config(tmp_path / "config.toml", server, database_url, cast)
    async with reader(database_url) as db, bot_processes(config, tmp_path) as bots, feed_hook(server) as feed:
        first = await bots.start()
        await coordinators_centre(cast)
        await start_request(cast)
        feed.arm(hold=redelivered)
        community_update = await give_community(cast)

        # The step and the answers so far are rows, committed before the question went out. The kill
        # comes once the outbox is idle: a kill during a send would leave that row claimed until its
        # lease runs out (60 s), holding back the resident's chat (at-least-once, see bot/adapters/sender.py).
        await outbox_settled(db)
        dialogs = await query(db, select(Dialog.flow, Dialog.step, Dialog.data).join(User, User.id == Dialog.user_id)
                              .where(User.telegram_id == cast.resident.id))
        assert len(dialogs) == 1 and dialogs[0].flow == "request" and dialogs[0].step == "building", dialogs
        assert dialogs[0].data["community"] == "阳光小区 Sunshine"
        if not redelivered:
            await feed.confirmed()
        await first.killed()
        feed.killed()
        second = await bots.start()

        # The resident simply types the next answer; the new process takes it from there.
        await finish_request(cast, timeout=START_TIMEOUT)
        answer = await cast.resident.tap_and_read_answer(_(CONFIRM_TODAY))
        assert answer.answered and not answer.show_alert, answer
        received = await wait_text(cast.resident, _("Thank you! Your request number is <b>#{number}</b>. "
                                                    "We will message you at every step.").split("<b>")[0])
        order = await the_order(db, cast)
        check_order(order, bots.clock)
        assert f"#{order.id}" in (received.text or "")
        await wait_text(cast.coordinator, _("🆕 New request #{number}", number=order.id),
                        chat_id=cast.coordinators_group.id)
        await outbox_settled(db)
        assert feed.after_kill is not None and (community_update in feed.after_kill) == redelivered, feed.after_kill

        private = await cast.resident.chat()
        for question in ("What kind of help do you need?", COMMUNITY_Q, BUILDING_Q, DETAIL_Q):
            assert count(private, _(question)) == 1, (question, [m.text for m in private.bot_messages])
        centre = await cast.coordinators_group.view()
        assert count(centre, _("🆕 New request #{number}", number=order.id)) == 1
        assert not await query(db, select(Dialog.user_id).join(User, User.id == Dialog.user_id)
                               .where(User.telegram_id == cast.resident.id))
        assert await second.stop() == 0, bots.logs()
        no_errors(bots)


async def test_kill9_right_after_confirm(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                         tmp_path: Path) -> None:
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    config = write_config(tmp_path / "config.toml", server, database_url, cast)
    thanks = _("Thank you! Your request number is <b>#{number}</b>. We will message you at every step.").split("<b>")[0]
    async with reader(database_url) as db, bot_processes(config, tmp_path) as bots, feed_hook(server) as feed:
        first = await bots.start()
        await coordinators_centre(cast)
        await start_request(cast)
        await give_community(cast)
        await finish_request(cast)
        await outbox_settled(db)

        feed.arm(hold=False)
        feed.kill_at_answer = first
        tap = await cast.resident.tap(_(CONFIRM_TODAY))
        answer = await sandbox.callback_answer(tap.callback_query_id)
        assert answer.answered and not answer.show_alert, answer
        await asyncio.wait_for(first.process.wait(), STOP_TIMEOUT)
        assert first.process.returncode == -signal.SIGKILL, first.process.returncode
        assert feed.answered_query == tap.callback_query_id

        # The order was committed before the answer: it is there, whatever happens next.
        order = await the_order(db, cast)
        check_order(order, bots.clock)
        assert answer.text == _("Request #{number} sent.", number=order.id), answer
        at_kill = await outbox_rows(db)

        async def diagnosis() -> str:
            return (f"outbox (id, chat, status, attempts, message_id) at the kill: {at_kill}; "
                    f"now: {await outbox_rows(db)}; updates delivered after the kill: {feed.after_kill}\n"
                    + bots.logs())

        second = await bots.start()
        headline = _("🆕 New request #{number}", number=order.id)
        try:
            received = await wait_text(cast.resident, thanks, timeout=START_TIMEOUT)
            await wait_text(cast.coordinator, headline, chat_id=cast.coordinators_group.id, timeout=START_TIMEOUT)
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{await diagnosis()}") from None
        assert f"#{order.id}" in (received.text or "")
        await outbox_settled(db)
        # bot.adapters.ingest confirms an update only after handling it, so the update the dying bot was still
        # handling reaches the new process again; its id in the database makes it a no-op there.
        assert feed.after_kill is not None and tap.update_id in feed.after_kill, await diagnosis()

        assert (await query(db, select(func.count()).select_from(Order)))[0][0] == 1
        assert count(await cast.resident.chat(), thanks) == 1, await diagnosis()
        assert count(await cast.coordinators_group.view(), headline) == 1, await diagnosis()
        # Every outbox row went out, each in one attempt: nothing was sent twice, nothing is left to resend.
        rows = await outbox_rows(db)
        assert all(row.status == "sent" and row.attempts == 1 for row in rows), await diagnosis()
        assert await second.stop() == 0, bots.logs()
        no_errors(bots)


@contextlib.asynccontextmanager
async def writes_blocked(database_url: str) -> AsyncIterator[None]:
    """Hold the database so the bot's handler cannot commit (it waits on the lock)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()  # SQLite: BEGIN IMMEDIATE takes the write lock
            if engine.dialect.name == "postgresql":
                await connection.exec_driver_sql("LOCK TABLE processed_updates IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def test_kill9_while_a_message_is_being_handled(server: SandboxServer, sandbox: SandboxClient,
                                                      database_url: str, tmp_path: Path) -> None:
    """The bot has fetched what the resident typed but dies before its handler commits: the
    update was not confirmed, so the next process gets it again and the dialog goes on."""
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    config = write_config(tmp_path / "config.toml", server, database_url, cast)
    async with reader(database_url) as db, bot_processes(config, tmp_path) as bots:
        first = await bots.start()
        await coordinators_centre(cast)
        await start_request(cast)
        await give_community(cast)
        await outbox_settled(db)
        async with writes_blocked(database_url):
            sent = await cast.resident.send("3栋2单元")

            async def fetched() -> bool:
                return server.feed.history[sent["update_id"]].delivered

            await eventually(fetched, "the bot fetched the update")
            first.kill9()
            await asyncio.wait_for(first.process.wait(), STOP_TIMEOUT)
        await bots.start()
        await wait_text(cast.resident, _(DETAIL_Q),
                        timeout=START_TIMEOUT)
        dialog = (await query(db, select(Dialog.step, Dialog.data)))[0]
        assert dialog.step == "detail" and dialog.data["building"] == "3栋2单元", dialog


async def test_kill9_while_sending_the_confirmation_does_not_wait_for_the_lease(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, tmp_path: Path) -> None:
    """Killed while sending the resident's "thank you": the restarted process (same instance) takes
    back the row its earlier boot had claimed and sends it at once, well within the 60 s lease;
    the resident never sees the summary again, and gets the thanks once."""
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    config = write_config(tmp_path / "config.toml", server, database_url, cast)
    thanks = _("Thank you! Your request number is <b>#{number}</b>. We will message you at every step.").split("<b>")[0]
    async with reader(database_url) as db, bot_processes(config, tmp_path) as bots, feed_hook(server) as feed:
        first = await bots.start()
        await coordinators_centre(cast)
        await start_request(cast)
        await give_community(cast)
        await finish_request(cast)
        await outbox_settled(db)
        summaries = len((await cast.resident.chat()).bot_messages)

        feed.kill_at_send = (first, thanks)
        await cast.resident.tap(_(CONFIRM_TODAY))
        await asyncio.wait_for(first.process.wait(), STOP_TIMEOUT)
        assert first.process.returncode == -signal.SIGKILL, first.process.returncode
        claimed = [row for row in await outbox_rows(db) if row.status == "sending"]
        assert claimed, await outbox_rows(db)  # the thanks was claimed by the dead process: its lease runs 60 s

        second = await bots.start()
        received = await wait_text(cast.resident, thanks, timeout=LEASE_SECONDS / 3)  # not after the lease
        order = await the_order(db, cast)
        assert f"#{order.id}" in (received.text or "")
        await outbox_settled(db)
        assert count(await cast.resident.chat(), thanks) == 1
        assert (await query(db, select(func.count()).select_from(Order)))[0][0] == 1
        # Nothing new but the thanks and the steps after it: the summary was not sent again.
        after = (await cast.resident.chat()).bot_messages[summaries:]
        assert not [m for m in after if _(CONFIRM_TODAY) in m.button_texts], [m.text for m in after]
        assert await second.stop() == 0, bots.logs()
