"""The readiness and metrics figures (storage.health): the outbox backlog counts rows waiting or
being sent and ages the oldest from the clock; schedule rows count once due and until fired."""

from __future__ import annotations

import datetime as dt

from storage.health import backlog, ping
from tests.support.dbfixtures import FakeClock, UowFactory

CHAT = 9_000_000_000_321


async def test_backlog_counts_what_waits_and_ages_the_oldest(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        await ping(uow.session)
        empty = await backlog(uow.session, clock())
    assert (empty.outbox_pending, empty.oldest_pending_seconds, empty.schedule_due) == (0, None, 0)

    async with uow_factory() as uow:
        first = await uow.outbox.send(CHAT, {"text": "first"})
        await uow.schedule.add("escalate", clock() + dt.timedelta(minutes=30))
        await uow.schedule.add("escalate", clock() + dt.timedelta(minutes=90))
        await uow.commit()
    clock.advance(45 * 60)
    async with uow_factory() as uow:
        await uow.outbox.send(CHAT, {"text": "second"})
        await uow.commit()
    clock.advance(15)
    async with uow_factory() as uow:
        figures = await backlog(uow.session, clock())
    assert figures.outbox_pending == 2 and figures.oldest_pending_seconds == 45 * 60 + 15
    assert figures.schedule_due == 1  # the 30-minute one; the 90-minute one is not due yet

    async with uow_factory() as uow:
        await uow.outbox.fail(first.id, "403: gone")
        due = await uow.schedule.take_due(clock(), 10)
        for item in due:
            item.state, item.fired_at = "done", clock()
        await uow.commit()
    async with uow_factory() as uow:
        figures = await backlog(uow.session, clock())
    assert figures.outbox_pending == 1 and figures.oldest_pending_seconds == 15
    assert figures.schedule_due == 0
