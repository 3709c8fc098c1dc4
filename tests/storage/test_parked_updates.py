"""Parked updates in the database (SQLite, and PostgreSQL when configured): parked once per update id
(a replay that fails again counts an attempt), queued for replay, dropped, and pruned after the
retention period."""

from __future__ import annotations

import datetime as dt

from tests.support.dbfixtures import FakeClock, UowFactory

RAW = {"update_id": 700000001, "message": {"message_id": 1, "text": "call 13812345678"}}


async def park(uow_factory: UowFactory, update_id: int = 700000001, error_type: str = "unparseable") -> int:
    async with uow_factory() as uow:
        row_id = await uow.parked.park(update_id, "message", error_type, "KeyError at _message.py:1 in _de_json",
                                       {**RAW, "update_id": update_id})
        await uow.commit()
    return row_id


async def test_an_update_is_parked_once_and_counts_its_failures(uow_factory: UowFactory, clock: FakeClock) -> None:
    first = await park(uow_factory)
    clock.advance(60)
    again = await park(uow_factory, error_type="RuntimeError")
    other = await park(uow_factory, update_id=700000002)
    assert first == again != other
    async with uow_factory() as uow:
        rows = await uow.parked.all()
        assert [(r.update_id, r.error_type, r.attempts, r.state) for r in rows] == [
            (700000001, "RuntimeError", 2, "parked"), (700000002, "unparseable", 1, "parked")]
        assert rows[0].failed_at - rows[0].parked_at == dt.timedelta(seconds=60)
        assert rows[0].payload == RAW


async def test_replay_queue_and_drop(uow_factory: UowFactory) -> None:
    row_id = await park(uow_factory)
    async with uow_factory() as uow:
        assert await uow.parked.request_replay(row_id)
        assert await uow.parked.request_replay(row_id)  # asking twice is fine
        assert not await uow.parked.request_replay(row_id + 1)
        await uow.commit()
    async with uow_factory() as uow:
        assert [r.id for r in await uow.parked.replays(10)] == [row_id]
    await park(uow_factory)  # the replay failed again: parked, not queued
    async with uow_factory() as uow:
        assert list(await uow.parked.replays(10)) == []
        assert await uow.parked.drop(row_id)
        assert not await uow.parked.drop(row_id)
        await uow.commit()
    async with uow_factory() as uow:
        assert list(await uow.parked.all()) == []


async def test_handled_updates_are_forgotten_and_old_ones_pruned(uow_factory: UowFactory, clock: FakeClock) -> None:
    await park(uow_factory, update_id=1)
    clock.advance(86400 * 10)
    await park(uow_factory, update_id=2)
    await park(uow_factory, update_id=3)
    async with uow_factory() as uow:
        assert await uow.parked.forget(3) == 1
        assert await uow.parked.prune(clock() - dt.timedelta(days=5)) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert [r.update_id for r in await uow.parked.all()] == [2]
