"""The kill -9 proof for the schedule: the real ``python -m bot run`` in a subprocess against the
sandbox, SIGKILLed while reminders are due, started again on the same database.

Forty finished, unrated orders were marked done 25 hours ago (their rating chase scheduled then,
by ``timetable.order_moved``), so each resident's first rating reminder is an hour overdue when the
bot starts. The sweep runs every 0.2 s in batches of two, so it takes twenty transactions, and the
outbox sender may start on the first ones while later batches are still being swept. The bot gets
SIGKILL either the moment its first message to a resident reaches "Telegram" (before the sandbox
carries the call out), or the moment the database shows the sweep's first commit (mid-sweep).
Until the restart the sandbox holds every message to a resident, so the dead process delivers
none. At the kill, every first step is either done with both its messages queued or pending with
none; after the restart every resident gets exactly one reminder and every first step is done
once, whatever the kill interrupted: a sweep batch not yet committed, or messages not yet sent.

The dead process's sends were claimed for 60 s (the outbox's at-least-once lease, see
``bot/adapters/sender.py``); the test moves those claims into the past, which is what waiting a minute
before the restart would do. The real clock runs throughout: nothing is mocked in the bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.app import service_config
from bot.i18n import I18n
from bot.services import timetable
from bot.services.schedule.sweep import system_user
from bot.services.wiring import service_context
from bot.settings import ReminderSettings, Settings
from sandbox import SandboxClient, SandboxServer, SimUser
from storage.db import session_factory
from storage.migrate import upgrade
from storage.models import Order, OutboxMessage, ScheduledItem, User
from storage.uow import UnitOfWork
from tests.e2e.harness import cast_of, tr, wait_text
from tests.e2e.test_restart import (
    LANGUAGE,
    START_TIMEOUT,
    STOP_TIMEOUT,
    BotProcess,
    bot_processes,
    eventually,
    no_errors,
    outbox_settled,
    query,
    reader,
    write_config,
)
from tests.e2e.test_restart import _toml as toml_value

RESIDENTS = 40
DONE_AGO = dt.timedelta(hours=25)  # the first reminder (24 h) is an hour overdue


# The bots start at FIXED_START, 09:00 in Shanghai: quiet hours far from it cannot hold the rules.
REMINDERS = ReminderSettings(sweep_seconds=0.2, batch_size=2, quiet_hours="15:00-16:00")


def with_reminders(config: Path) -> Path:
    """The operator's config plus a ``[reminders]`` table: a fast sweep in small batches."""
    lines = [f"{key} = {toml_value(value)}"
             for key, value in REMINDERS.model_dump(include={"sweep_seconds", "batch_size", "quiet_hours"}).items()]
    config.write_text(config.read_text(encoding="utf-8") + "\n[reminders]\n" + "\n".join(lines) + "\n",
                      encoding="utf-8")
    return config


async def seed(engine: AsyncEngine, residents: list[SimUser], volunteer_telegram_id: int,
               now: dt.datetime) -> dict[int, int]:
    """The residents' done orders, finished ``DONE_AGO``, with the rating chase ``order_moved``
    scheduled then; returns resident Telegram id → order id."""
    await upgrade(engine)
    done_at = now - DONE_AGO
    config = service_config(Settings(reminders=REMINDERS))
    orders: dict[int, int] = {}
    async with UnitOfWork(session_factory(engine), clock=lambda: done_at) as uow:
        volunteer = await uow.users.ensure(volunteer_telegram_id, "Vera", "zh")
        ctx = service_context(uow, system_user(), i18n=I18n(), config=config)
        for person in residents:
            resident = await uow.users.ensure(person.id, person.first_name, "zh")
            order = await uow.orders.add(status="done", category="repair", community="阳光小区", when_text="today",
                                         contact_name=person.first_name, contact_phone="+8613800000001",
                                         description="厨房水管漏水", resident_id=resident.id,
                                         volunteer_id=volunteer.id, hours=1.0)
            await timetable.order_moved(ctx, order)
            orders[person.id] = order.id
        await uow.commit()
    return orders


class ResidentsHeld:
    """Hooks the sandbox's sendMessage (the bot still sees an ordinary server): while ``holding``,
    a message to a resident is never carried out, and the first one SIGKILLs ``bot`` first."""

    def __init__(self, server: SandboxServer, residents: set[int]) -> None:
        self.server = server
        self.residents = residents
        self.holding = True
        self.bot: BotProcess | None = None
        self.held = 0
        self._original = server.api.method
        server.api.method = self._method  # type: ignore[method-assign]

    def restore(self) -> None:
        self.server.api.method = self._original  # type: ignore[method-assign]

    def _method(self, name: str) -> Any:
        implementation = self._original(name)
        if implementation is None or name.lower() != "sendmessage":
            return implementation
        return functools.partial(self._send, implementation)

    async def _send(self, implementation: Any, params: Any) -> Any:
        if self.holding and int(params.values.get("chat_id") or 0) in self.residents:
            bot, self.bot = self.bot, None
            if bot is not None:
                bot.kill9()
            self.held += 1
            await asyncio.Event().wait()  # cancelled when the dead bot's connection closes
        return await implementation(params)


@pytest.fixture
async def held(server: SandboxServer) -> AsyncIterator[ResidentsHeld]:
    hook = ResidentsHeld(server, set())
    try:
        yield hook
    finally:
        hook.restore()


async def schedule(engine: AsyncEngine) -> list[Any]:
    """The rating chase's rows (the bot also schedules its digests at start-up)."""
    return await query(engine, select(ScheduledItem.order_id, ScheduledItem.step, ScheduledItem.state,
                                      ScheduledItem.result).where(ScheduledItem.kind == timetable.RATING)
                       .order_by(ScheduledItem.id))


async def first_steps(engine: AsyncEngine) -> list[tuple[int, str, int]]:
    """(order, state of its first rating step, sends to its resident's chat), read in one statement."""
    sends = (select(func.count()).select_from(OutboxMessage)
             .where(OutboxMessage.chat_id == User.telegram_id, OutboxMessage.kind == "send").scalar_subquery())
    rows = await query(engine, select(ScheduledItem.order_id, ScheduledItem.state, sends)
                       .join(User, User.id == ScheduledItem.user_id)
                       .where(ScheduledItem.kind == timetable.RATING, ScheduledItem.step == 1)
                       .order_by(ScheduledItem.order_id))
    return [(row[0], row[1], row[2]) for row in rows]


async def dead_transactions_ended(engine: AsyncEngine) -> None:
    """On PostgreSQL a COMMIT the bot sent just before it died may still be carried out: wait until
    no other session is in a statement or a transaction. (SQLite: the dead process wrote all or nothing.)"""
    if engine.dialect.name != "postgresql":
        return
    busy = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'")

    async def ended() -> bool:
        return (await query(engine, busy))[0][0] == 0

    await eventually(ended, "the dead bot's transactions ended", timeout=STOP_TIMEOUT)


async def sends_to(engine: AsyncEngine, chats: set[int]) -> dict[int, int]:
    """Outbox sends per resident chat (a reminder is two: its line and the rating question)."""
    rows = await query(engine, select(OutboxMessage.chat_id, func.count()).where(
        OutboxMessage.chat_id.in_(chats), OutboxMessage.kind == "send").group_by(OutboxMessage.chat_id))
    return {row[0]: row[1] for row in rows}


async def first_commit(db: AsyncEngine, bot: BotProcess) -> None:
    """SIGKILL ``bot`` as soon as the database shows a first schedule item done (looking every ms)."""
    done = select(func.count()).select_from(ScheduledItem).where(ScheduledItem.kind == timetable.RATING,
                                                                 ScheduledItem.state == "done")
    while bot.process.returncode is None and not (await query(db, done))[0][0]:
        await asyncio.sleep(0.001)
    bot.kill9()


@pytest.mark.parametrize("kill_at", ["first_send", "first_commit"])
async def test_kill9_with_reminders_due_then_each_fires_once(server: SandboxServer, sandbox: SandboxClient,
                                                             database_url: str, tmp_path: Path,
                                                             held: ResidentsHeld, kill_at: str) -> None:
    _ = tr(LANGUAGE)
    cast = await cast_of(sandbox, LANGUAGE)
    residents = [await sandbox.create_user(f"Resident{i}", language_code="zh-hans") for i in range(RESIDENTS)]
    for person in residents:  # they started the bot when they placed their orders, days ago
        server.world.person(person.id).started_bot = True
    held.residents.update(person.id for person in residents)
    chats = set(held.residents)
    config = with_reminders(write_config(tmp_path / "config.toml", server, database_url, cast))

    async with reader(database_url) as db, bot_processes(config, tmp_path) as bots:
        orders = await seed(db, residents, volunteer_telegram_id=cast.volunteers[0].id, now=bots.clock())
        assert {(row.step, row.state) for row in await schedule(db)} == {(1, "pending"), (2, "pending"),
                                                                       (3, "pending")}
        first = await bots.start()
        if kill_at == "first_send":
            held.bot = first
        else:
            await asyncio.wait_for(first_commit(db, first), START_TIMEOUT)
        returncode = await asyncio.wait_for(first.process.wait(), START_TIMEOUT)
        assert returncode == -signal.SIGKILL and held.bot is None, (returncode, bots.logs())

        # At the kill: whatever the sweep committed is whole (a first step done with its reminder's
        # two rows), nothing else is (one statement, so one snapshot); no resident has seen anything.
        await dead_transactions_ended(db)
        at_kill = await first_steps(db)
        done = {order for order, state, _ in at_kill if state == "done"}
        assert done, at_kill  # the sweep had committed a reminder before the kill
        assert all(sends == (2 if state == "done" else 0) for _, state, sends in at_kill), at_kill
        assert len(at_kill) == RESIDENTS and {state for _, state, _ in at_kill} <= {"done", "pending"}, at_kill
        for person in residents:
            assert not (await person.chat()).bot_messages

        async with db.begin() as connection:  # a minute passes: the dead sender's claims run out
            await connection.execute(update(OutboxMessage).where(OutboxMessage.status == "sending")
                                     .values(claimed_until=bots.clock() - dt.timedelta(seconds=1)))
        held.holding = False
        second = await bots.start()

        async def diagnosis() -> str:
            return (f"swept at the kill: {len(done)} of {RESIDENTS}; held sends: {held.held}; "
                    f"schedule now: {await schedule(db)}\n{bots.logs()}")

        try:
            for person in residents:
                reminder = _("Reminder: please rate request #{number} — your answer helps the centre.",
                             number=orders[person.id])
                await wait_text(person, reminder, timeout=START_TIMEOUT)
            await outbox_settled(db)
        except (TimeoutError, AssertionError) as error:
            raise AssertionError(f"{error}\n{await diagnosis()}") from None

        for person in residents:
            number = orders[person.id]
            texts = [m.text or "" for m in (await person.chat()).bot_messages]
            reminder = _("Reminder: please rate request #{number} — your answer helps the centre.", number=number)
            question = _("{volunteer} has finished request #{number}. How did it go?", volunteer="Vera",
                         number=number)
            assert (texts.count(reminder), texts.count(question)) == (1, 1), (person.first_name, texts,
                                                                              await diagnosis())
        rows = await schedule(db)
        assert sorted((row.order_id, row.step, row.state, row.result) for row in rows) == sorted(
            [(order, 1, "done", "reminder 1") for order in orders.values()]
            + [(order, step, "pending", None) for order in orders.values() for step in (2, 3)]), await diagnosis()
        assert await sends_to(db, chats) == dict.fromkeys(chats, 2), await diagnosis()
        assert (await query(db, select(func.count()).select_from(Order).where(Order.status == "done")))[0][0] \
            == RESIDENTS
        assert await second.stop() == 0, bots.logs()
        no_errors(bots)
