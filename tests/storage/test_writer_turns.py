"""SQLite's writers of one process take turns in an asyncio lock (``storage.db.WriterTurns``)
rather than in SQLite's busy handler, which sleeps and retries (up to 100 ms a time) instead of
queueing. On PostgreSQL there is nothing to take turns for: its row locks queue writers."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import writer_turns
from storage.uow import UnitOfWork
from tests.support.dbfixtures import FakeClock


async def test_writers_wait_their_turn_first_come_first_served(
        backend: str, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    entered: list[int] = []
    release = asyncio.Event()

    async def writer(number: int) -> None:
        async with UnitOfWork(sessions, clock=clock) as uow:
            entered.append(number)
            if number == 0:
                await release.wait()
            await uow.users.ensure(1000 + number, f"writer {number}")
            await uow.commit()

    first = asyncio.create_task(writer(0))
    while not entered:
        await asyncio.sleep(0)
    others = []
    for number in range(1, 6):
        others.append(asyncio.create_task(writer(number)))
        await asyncio.sleep(0)  # each asks for its turn before the next one
    for _ in range(20):
        await asyncio.sleep(0)
    if backend == "sqlite":
        assert entered == [0]  # the others wait for the lock, not in SQLite's busy handler
    else:
        assert writer_turns(sessions) is None and sorted(entered) == [0, 1, 2, 3, 4, 5]
    release.set()
    await asyncio.gather(first, *others)
    assert entered == [0, 1, 2, 3, 4, 5]


async def test_a_unit_of_work_inside_another_keeps_the_turn(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async def nested() -> None:
        async with UnitOfWork(sessions, clock=clock) as outer:
            async with UnitOfWork(sessions, clock=clock) as inner:
                await inner.session.execute(text("SELECT 1"))
            await outer.session.execute(text("SELECT 1"))

    await asyncio.wait_for(nested(), 10)  # a lock that is not the task's own would wait forever


async def test_a_reader_does_not_wait_for_a_writer(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with UnitOfWork(sessions, clock=clock) as writer:
        await writer.users.ensure(2000, "writer")
        await writer.flush()

        async def read() -> int | None:
            async with UnitOfWork(sessions, clock=clock, read_only=True) as reader:
                return (await reader.session.execute(text("SELECT 1"))).scalar()

        assert await asyncio.wait_for(asyncio.create_task(read()), 10) == 1
        await writer.commit()
