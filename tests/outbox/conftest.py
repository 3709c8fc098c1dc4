"""Outbox sender fixtures: the sandbox and the sender on one fake clock, a real PTB Bot over HTTP.

The sandbox measures flood limits and retry windows on the same :class:`FakeClock` the sender
paces itself by (and the database fixtures stamp rows with). So a test can walk through minutes
of Telegram time in milliseconds, and a violation still means a call Telegram would have refused.
A few tests run on the real clock instead, to show that ``run()`` keeps the same promises in
wall time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import telegram
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.sender import OutboxSender
from bot.settings import OutboxSettings
from sandbox import SandboxClient, SandboxServer
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.support.clocks import JumpClock
from tests.support.dbfixtures import FakeClock, UowFactory


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[SandboxServer]:
    """A sandbox (flood limits on) whose time is the test's fake clock."""
    async with SandboxServer(clock=lambda: clock().timestamp()) as server:
        yield server


@pytest.fixture
def flowing_clock() -> JumpClock:
    """Time that flows from a fixed instant, for senders that pace themselves by it."""
    return JumpClock()


@pytest.fixture
async def realtime_server(flowing_clock: JumpClock) -> AsyncIterator[SandboxServer]:
    """A sandbox whose time flows (flood limits on)."""
    async with SandboxServer(clock=lambda: flowing_clock().timestamp()) as server:
        yield server


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(server.token, base_url=server.bot_api_url) as bot:
        yield bot


@pytest.fixture
async def sandbox(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with server.client() as client:
        yield client


@pytest.fixture
def realtime_uow_factory(sessions: async_sessionmaker[AsyncSession],
                         flowing_clock: JumpClock) -> Callable[[], UnitOfWork]:
    """Units of work on the flowing clock (for the senders that run on it)."""
    return lambda: UnitOfWork(sessions, clock=flowing_clock)


class Outbox:
    """Queue rows as the app would (committed), read them back, and drive a sender on fake time."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: FakeClock | None = None) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    async def send(self, chat_id: int, text: str | None = None, *, method: str = "sendMessage",
                   **params: Any) -> int:
        payload = dict(params)
        if text is not None:
            payload["text"] = text
        async with self.uow_factory() as uow:
            row = await uow.outbox.send(chat_id, payload, method=method)
            await uow.commit()
            return row.id

    async def edit(self, target_id: int, **payload: Any) -> int:
        async with self.uow_factory() as uow:
            row = await uow.outbox.edit(target_id, payload)
            await uow.commit()
            return row.id

    async def row(self, row_id: int) -> OutboxMessage:
        async with self.uow_factory() as uow:
            row = await uow.outbox.get(row_id)
            assert row is not None
            uow.session.expunge_all()  # keep the values: leaving the unit of work rolls back
            return row

    async def rows(self) -> list[OutboxMessage]:
        async with self.uow_factory() as uow:
            rows = list((await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())
            uow.session.expunge_all()
            return rows

    async def pending(self) -> int:
        async with self.uow_factory() as uow:
            return await uow.outbox.pending_count()

    async def drain(self, sender: OutboxSender, *, max_rounds: int = 500) -> int:
        """Run the sender until nothing is pending, moving the fake clock to each moment it names.
        Returns how many rounds it took."""
        assert self.clock is not None
        for rounds in range(1, max_rounds + 1):
            await sender.run_once()
            if not await self.pending():
                return rounds
            wake = sender.next_wakeup
            if wake is None or wake <= self.clock():
                self.clock.advance(sender.settings.poll_interval)
            else:
                self.clock.now = wake
        raise AssertionError(f"outbox not drained after {max_rounds} rounds")


@pytest.fixture
def outbox(uow_factory: UowFactory, clock: FakeClock) -> Outbox:
    return Outbox(uow_factory, clock)


MakeSender = Callable[..., OutboxSender]


@pytest.fixture
def make_sender(bot: telegram.Bot, uow_factory: UowFactory, clock: FakeClock) -> MakeSender:
    """``make_sender(max_attempts=3, on_unreachable=..., lease=...)``: a sender on the fake clock."""

    def make(*, on_unreachable: Callable[[UnitOfWork, int], Awaitable[None]] | None = None,
             lease: float = 60.0, **settings: Any) -> OutboxSender:
        return OutboxSender(bot, uow_factory, OutboxSettings(**settings), clock=clock,
                            on_unreachable=on_unreachable, lease=lease)

    return make


def started_user(server: SandboxServer, name: str) -> int:
    """A simulated person who pressed Start (so the bot may write to them)."""
    person = server.people.create_user(name)
    server.people.start(person.id)
    return person.id


def group_with_bot(server: SandboxServer, title: str, creator: int) -> int:
    """A basic group the bot was added to."""
    chat = server.people.create_group(title, creator=creator)
    server.people.add_bot(chat.id, creator)
    return chat.id


async def bot_texts(sandbox: SandboxClient, chat_id: int) -> list[str | None]:
    """The bot's messages in a chat as its members see them now, oldest first."""
    return [m.text for m in (await sandbox.chat(chat_id)).bot_messages]
