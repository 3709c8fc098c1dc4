"""The unit of work: nothing persists unless committed; an update key is applied at most once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import ProcessedUpdate, User
from storage.uow import DuplicateUpdate, UnitOfWork
from tests.support.dbfixtures import FakeClock, UowFactory


async def _user_exists(uow_factory: UowFactory, telegram_id: int) -> bool:
    async with uow_factory() as uow:
        return await uow.users.by_telegram_id(telegram_id) is not None


async def _count(uow_factory: UowFactory, model: type) -> int:
    async with uow_factory() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


def _checked_out(engine: AsyncEngine) -> int:
    return engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]


async def test_uncommitted_work_is_rolled_back(uow_factory: UowFactory, engine: AsyncEngine) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(101, "Ann")
        await uow.session.flush()
        assert not uow.committed

    assert not await _user_exists(uow_factory, 101)
    assert _checked_out(engine) == 0


async def test_exception_rolls_back(uow_factory: UowFactory, engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError, match="boom"):  # noqa: PT012 - the rollback is the block's exit
        async with uow_factory() as uow:
            await uow.users.ensure(102, "Bob")
            await uow.session.flush()
            raise RuntimeError("boom")

    assert not await _user_exists(uow_factory, 102)
    assert _checked_out(engine) == 0


async def test_commit_persists(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(103, "Cy")
        await uow.commit()
        assert uow.committed

    async with uow_factory() as uow:
        user = await uow.users.by_telegram_id(103)
        assert user is not None
        assert user.first_name == "Cy"
        assert user.created_at == clock()


async def test_explicit_rollback_discards(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(104, "Di")
        await uow.rollback()
        await uow.users.ensure(105, "Ed")
        await uow.commit()

    assert not await _user_exists(uow_factory, 104)
    assert await _user_exists(uow_factory, 105)


async def test_same_update_key_twice_is_refused(uow_factory: UowFactory, engine: AsyncEngine) -> None:
    async with uow_factory(update_key="u:1") as uow:
        await uow.users.ensure(106, "First")
        await uow.commit()

    body_ran = False
    with pytest.raises(DuplicateUpdate) as raised:
        async with uow_factory(update_key="u:1") as uow:
            body_ran = True
    assert not body_ran
    assert raised.value.args == ("u:1",)
    assert _checked_out(engine) == 0  # the refused unit of work gave its connection back

    # Other keys still go through, and the duplicate left nothing behind.
    async with uow_factory(update_key="u:2") as uow:
        await uow.commit()
    assert await _count(uow_factory, ProcessedUpdate) == 2


async def test_key_of_a_rolled_back_unit_can_be_used_again(uow_factory: UowFactory) -> None:
    async with uow_factory(update_key="u:3") as uow:
        await uow.users.ensure(107, "Lost")
        # not committed: the key goes with the effects

    with pytest.raises(ValueError, match="handler crashed"):  # noqa: PT012 - the rollback is the block's exit
        async with uow_factory(update_key="u:3") as uow:
            await uow.users.ensure(107, "Failed")
            raise ValueError("handler crashed")

    async with uow_factory(update_key="u:3") as uow:
        await uow.users.ensure(108, "Retried")
        await uow.commit()

    assert not await _user_exists(uow_factory, 107)
    assert await _user_exists(uow_factory, 108)
    with pytest.raises(DuplicateUpdate):
        async with uow_factory(update_key="u:3"):
            pass


async def test_failed_start_gives_the_connection_back(sessions: async_sessionmaker[AsyncSession],
                                                      uow_factory: UowFactory, engine: AsyncEngine) -> None:
    """An error while recording the key (not a duplicate) must not leak the session: __aexit__
    never runs when __aenter__ raises, and on SQLite the leaked connection would keep the write lock."""
    def naive_clock() -> dt.datetime:  # the key's seen_at is refused before it reaches the database
        return dt.datetime(2026, 1, 15, 9, 30)

    with pytest.raises(StatementError, match="naive datetime"):
        async with UnitOfWork(sessions, clock=naive_clock, update_key="u:4"):
            pass

    assert _checked_out(engine) == 0
    async with uow_factory(update_key="u:4") as uow:  # the key was not taken, and writers get through
        await uow.users.ensure(109, "After")
        await uow.commit()
    assert await _user_exists(uow_factory, 109)


async def test_concurrent_duplicate_delivery_applies_once(uow_factory: UowFactory, engine: AsyncEngine) -> None:
    async def deliver(telegram_id: int) -> int:
        async with uow_factory(update_key="u:race") as uow:
            await uow.users.ensure(telegram_id, "Racer")
            await uow.commit()
        return telegram_id

    results = await asyncio.gather(deliver(201), deliver(202), return_exceptions=True)

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert [type(r) for r in results if not isinstance(r, int)] == [DuplicateUpdate]
    assert await _count(uow_factory, User) == 1
    assert await _user_exists(uow_factory, winners[0])
    assert await _count(uow_factory, ProcessedUpdate) == 1
    assert _checked_out(engine) == 0
