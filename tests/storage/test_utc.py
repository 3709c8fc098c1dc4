"""Timestamps: stored as UTC instants on every backend; naive datetimes never reach the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from storage.models import ProcessedUpdate
from tests.support.dbfixtures import FakeClock, UowFactory

PLUS_EIGHT = dt.timezone(dt.timedelta(hours=8))


async def test_offset_datetime_comes_back_as_the_same_instant_in_utc(uow_factory: UowFactory) -> None:
    local = dt.datetime(2026, 3, 1, 10, 15, 30, 123456, tzinfo=PLUS_EIGHT)
    async with uow_factory() as uow:
        uow.session.add(ProcessedUpdate(key="tz", seen_at=local))
        await uow.commit()

    async with uow_factory() as uow:  # a new session, so the value is read from the database
        row = await uow.session.get(ProcessedUpdate, "tz")
        assert row is not None
        assert row.seen_at == local
        assert row.seen_at.tzinfo is dt.UTC
        assert row.seen_at == dt.datetime(2026, 3, 1, 2, 15, 30, 123456, tzinfo=dt.UTC)
        assert (row.seen_at.hour, row.seen_at.microsecond) == (2, 123456)


async def test_comparisons_and_order_follow_the_instant(uow_factory: UowFactory) -> None:
    # 10:00 at +08:00 is 02:00 UTC, earlier than 03:00 UTC although its wall-clock reads later.
    early = dt.datetime(2026, 3, 1, 10, 0, tzinfo=PLUS_EIGHT)
    late = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
    async with uow_factory() as uow:
        uow.session.add_all([ProcessedUpdate(key="late", seen_at=late), ProcessedUpdate(key="early", seen_at=early)])
        await uow.commit()

    async with uow_factory() as uow:
        ordered = (await uow.session.scalars(select(ProcessedUpdate.key).order_by(ProcessedUpdate.seen_at))).all()
        assert ordered == ["early", "late"]
        cutoff = dt.datetime(2026, 3, 1, 10, 30, tzinfo=PLUS_EIGHT)  # 02:30 UTC
        before = (await uow.session.scalars(
            select(ProcessedUpdate.key).where(ProcessedUpdate.seen_at < cutoff))).all()
        assert before == ["early"]


async def test_naive_datetimes_are_refused(uow_factory: UowFactory) -> None:
    naive = dt.datetime(2026, 3, 1, 10, 0)
    with pytest.raises(StatementError, match="naive datetime") as raised:  # noqa: PT012 - refused at the flush
        async with uow_factory() as uow:
            uow.session.add(ProcessedUpdate(key="naive", seen_at=naive))
            await uow.session.flush()
    assert isinstance(raised.value.orig, ValueError)

    with pytest.raises(StatementError, match="naive datetime"):
        async with uow_factory() as uow:
            await uow.session.scalars(select(ProcessedUpdate).where(ProcessedUpdate.seen_at < naive))

    async with uow_factory() as uow:
        assert await uow.session.get(ProcessedUpdate, "naive") is None


async def test_repositories_stamp_with_the_injected_clock(uow_factory: UowFactory, clock: FakeClock) -> None:
    clock.now = dt.datetime(2026, 7, 4, 23, 59, 59, tzinfo=PLUS_EIGHT)  # an aware non-UTC clock
    async with uow_factory() as uow:
        user = await uow.users.ensure(7, "Clocked")
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.users.get(user.id)
        assert stored is not None
        assert stored.created_at == clock.now
        assert stored.created_at.tzinfo is dt.UTC
        assert stored.created_at.hour == 15
