"""The outbox's fast path: a row committed by a handler reaches the sender by its id
(``UnitOfWork(after_commit=sender.notify)``), so it is sent at once, without a poll round and
without reading the outbox first; the sender's transactions per message stay low.

Everything runs on the fake clock the sandbox shares: "at once" means "without the clock
moving", and ``poll_interval`` is an hour, so polling cannot be what delivers a row.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import telegram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.sender import OutboxSender
from bot.settings import OutboxSettings
from sandbox import SandboxClient, SandboxServer
from storage.uow import UnitOfWork
from tests.outbox.conftest import Outbox, bot_texts, group_with_bot, started_user
from tests.support.dbfixtures import FakeClock

AN_HOUR = 3600.0


@pytest.fixture
def sender(bot: telegram.Bot, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> OutboxSender:
    """A sender that polls once an hour: only the fast path can deliver within a test."""
    return OutboxSender(bot, lambda: UnitOfWork(sessions, clock=clock), OutboxSettings(poll_interval=AN_HOUR),
                        clock=clock)


@pytest.fixture
def handler_outbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, sender: OutboxSender) -> Outbox:
    """Rows queued as a handler queues them (``Deps.uow``): the sender hears of them on commit."""
    return Outbox(lambda: UnitOfWork(sessions, clock=clock, after_commit=sender.notify), clock)


class TransactionCounter:
    """Counts the transactions begun on an engine (SQLAlchemy's ``begin`` event), reads included."""

    def __init__(self) -> None:
        self.count = 0
        self.counting = False

    def on_begin(self, _connection: Any) -> None:
        if self.counting:
            self.count += 1

    async def during(self, work: Callable[[], Any]) -> None:
        self.counting = True
        try:
            await work()
        finally:
            self.counting = False


@pytest.fixture
def transactions(engine: AsyncEngine) -> Iterator[TransactionCounter]:
    counter = TransactionCounter()
    event.listen(engine.sync_engine, "begin", counter.on_begin)
    yield counter
    event.remove(engine.sync_engine, "begin", counter.on_begin)


async def test_a_committed_row_is_sent_by_the_running_sender_without_a_poll(
        server: SandboxServer, sandbox: SandboxClient, sender: OutboxSender, handler_outbox: Outbox,
        clock: FakeClock) -> None:
    alice = started_user(server, "Alice")
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0)  # the first round: an empty outbox, the next poll an hour away
        started = clock()
        await handler_outbox.send(alice, "Your request is saved")
        await sandbox.wait_for(alice, lambda view: len(view.bot_messages) == 1, timeout=10)
    finally:
        await sender.stop()
        await task
    assert clock() == started  # not a second of the bot's time passed: no poll, no wait
    assert await bot_texts(sandbox, alice) == ["Your request is saved"]
    assert (await handler_outbox.rows())[0].status == "sent"


async def test_a_realistic_mix_costs_the_sender_at_most_one_and_a_half_transactions_per_message(
        server: SandboxServer, sandbox: SandboxClient, sender: OutboxSender, handler_outbox: Outbox,
        transactions: TransactionCounter, clock: FakeClock) -> None:
    """What is counted: every transaction the *sender* begins (its reads of the outbox, its claims,
    its records of sent rows) from its first round on, reads included; not the handlers' own
    transactions, which write the rows whatever the sender does. Each step is one sender round at
    a moment the clock does not move in (the fast path), then a second passes before the next."""
    resident, volunteer, vera, bob, carol, dan = (
        started_user(server, name) for name in ("Resident", "Volunteer", "Vera", "Bob", "Carol", "Dan"))
    team = group_with_bot(server, "Repair team", volunteer)

    await transactions.during(sender.run_once)  # the first round reads the (empty) outbox once
    messages = 0

    async def step(*rows: Any) -> None:
        nonlocal messages
        messages += len(rows)
        before = len(await sandbox.calls())
        await transactions.during(sender.run_once)
        assert len(await sandbox.calls()) == before + len(rows)  # all of them, with no time passing
        clock.advance(1)

    # A handler writing a reply.
    await step(await handler_outbox.send(resident, "Describe the problem"))
    # A dispatch: the card in the team's group and a message to the resident.
    card = await handler_outbox.send(team, "#1 Leaking tap")
    await step(card, await handler_outbox.send(resident, "Request #1 was passed to the team"))
    # A tap on the card: its edit and a private message to the volunteer who took it.
    await step(await handler_outbox.edit(card, text="#1 Leaking tap: taken by Vera"),
               await handler_outbox.send(vera, "Call +86 138 0000 0001"))
    # Several handlers in a row, committed before the sender's next round.
    await step(*[await handler_outbox.send(person, "Welcome") for person in (bob, carol, dan)])

    assert await sandbox.flood_violations() == []
    assert {row.status for row in await handler_outbox.rows()} == {"sent"}
    # 1 read at start, then per round one claim and one record of what was sent: 9 for 8 messages.
    assert messages == 8
    assert transactions.count / messages <= 1.5, (transactions.count, messages)


async def test_rows_queued_during_a_tap_wait_for_its_answer_and_nothing_else_does(
        server: SandboxServer, sandbox: SandboxClient, sender: OutboxSender, handler_outbox: Outbox) -> None:
    """The tap's chats and the rows its handler queues wait while the tap is answered; a reply to
    someone else goes at once (it used to wait for any tap, up to a second)."""
    vera, bob = started_user(server, "Vera"), started_user(server, "Bob")
    team = group_with_bot(server, "Repair team", vera)
    card = await handler_outbox.send(team, "#1 Leaking tap")
    await sender.run_once()
    async with sender.answering(vera, team):
        edit = await handler_outbox.edit(card, text="#1 taken by Vera")  # the tap's own rows
        await handler_outbox.send(vera, "Call +86 138 0000 0001")
        # Another person's handler, meanwhile (its own task, as PTB runs it: not inside the tap).
        await asyncio.create_task(handler_outbox.send(bob, "Welcome"), context=contextvars.Context())
        await sender.run_once()
        assert await bot_texts(sandbox, bob) == ["Welcome"]
        assert await bot_texts(sandbox, vera) == []
        assert (await handler_outbox.row(edit)).status == "pending"
    await sender.run_once()  # the answer is out
    assert await bot_texts(sandbox, vera) == ["Call +86 138 0000 0001"]
    assert await bot_texts(sandbox, team) == ["#1 taken by Vera"]


async def test_a_slow_call_holds_up_only_its_own_chat(
        server: SandboxServer, sandbox: SandboxClient, sender: OutboxSender, handler_outbox: Outbox) -> None:
    """The running sender does not wait for a round's calls to end before claiming again: a reply
    committed while another person's call hangs goes out at once. (Rounds that waited for their
    slowest call held it until the slow one ended.)"""
    slow, quick = started_user(server, "Slow"), started_user(server, "Quick")
    await sandbox.fail_next("slow", chat_id=slow, delay=3.0)
    task = asyncio.create_task(sender.run())
    try:
        await handler_outbox.send(slow, "Your request is saved")
        await asyncio.sleep(0.2)  # the slow call is under way
        await handler_outbox.send(quick, "Describe the problem")
        await sandbox.wait_for(quick, lambda view: len(view.bot_messages) == 1, timeout=2.5)
        assert await bot_texts(sandbox, slow) == []  # still hanging: it did not hold the quick reply
    finally:
        await sender.stop()
        await task
    assert await bot_texts(sandbox, slow) == ["Your request is saved"]


async def test_the_running_sender_records_a_burst_in_few_transactions(
        server: SandboxServer, sandbox: SandboxClient, sender: OutboxSender, handler_outbox: Outbox,
        transactions: TransactionCounter) -> None:
    """In :meth:`OutboxSender.run` every call wakes the loop when it ends; the rows sent are still
    recorded together (with the next claim, or once the calls of the burst are done), not one
    transaction per call."""
    people = [started_user(server, f"Person {n}") for n in range(8)]
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0)  # the first round reads the (empty) outbox

    async def burst() -> None:
        async with handler_outbox.uow_factory() as uow:  # the handler's transaction: counted, 1
            for person in people:
                await uow.outbox.send(person, {"text": "Welcome"})
            await uow.commit()
        for person in people:
            await sandbox.wait_for(person, lambda view: len(view.bot_messages) == 1, timeout=10)
        await sender.stop()  # whatever is not recorded yet is recorded now
        await task

    await transactions.during(burst)
    assert {row.status for row in await handler_outbox.rows()} == {"sent"}
    # The handler's one, then one claim for the eight and the records: a few, not one per call.
    assert transactions.count - 1 <= 3, transactions.count
