"""Issue 5's reliability proofs at the service level: the real sweep (``bot.services.schedule.sweep.Sweeper``)
and the real handlers (``bot.services.schedule.rules``) on SQLite and PostgreSQL, time on a FakeClock.

* Two sweepers on two engines, at the same moment, over the same due items (1,000 of them):
  every item is done once and every order's volunteer gets exactly one nudge. On PostgreSQL both
  sweepers took part (``FOR UPDATE SKIP LOCKED`` shared the rows between them).
* A sweep that dies in the middle of a batch (the transaction never commits: a crash, a
  cancellation, on PostgreSQL the connection killed under it) leaves its batch pending, with
  none of its messages; batches committed before it stay done; the next sweep fires the rest once.
* A two-hour outage: one overdue nudge per order however many intervals were missed, the next one
  an interval after *now*; a ladder (escalation, rating chase) overtaken by the outage records its
  earlier steps as skipped and sends only the latest step that is due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.context import Deps
from bot.services import timetable
from bot.services.context import ServiceContext
from bot.services.schedule import rules
from bot.services.schedule.sweep import Handler, system_user
from bot.settings import Settings
from storage.db import create_engine
from storage.models import OrderEvent, ScheduledItem
from tests.service.schedule.conftest import (
    CENTRE_CHAT,
    add_team,
    items,
    make_sweeper,
    moved,
    outbox,
    seed_orders,
    sends_per_recipient,
)
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import BACKENDS, FakeClock

MINUTE = 60.0
HOUR = 3600.0
CONCURRENT_ITEMS = 1000


@pytest.fixture
def deps(settings: Settings, engine: AsyncEngine, clock: FakeClock) -> Deps:
    return make_deps(settings, engine, clock)


# -- exactly once with two sweepers -------------------------------------------------------------------------
async def test_two_sweepers_at_once_fire_each_item_once(backend: str, database_url: str, deps: Deps,
                                                        settings: Settings, clock: FakeClock) -> None:
    seeded = await seed_orders(deps, CONCURRENT_ITEMS, status="accepted", kind=timetable.OVERDUE)
    other_engine = create_engine(database_url)  # a second bot process: its own engine and connections
    try:
        other = make_deps(settings, other_engine, clock)
        first, second = await asyncio.gather(make_sweeper(deps, batch_size=50).sweep(),
                                             make_sweeper(other, batch_size=50).sweep())
    finally:
        await other_engine.dispose()

    assert first.done + second.done == CONCURRENT_ITEMS, (first, second)
    assert first.skipped == second.skipped == first.failed == second.failed == 0, (first, second)
    if backend == "postgresql":  # SKIP LOCKED shared the work; neither waited for the other to finish
        assert first.done > 0 and second.done > 0, (first, second)
    nudges = await items(deps, kind=timetable.OVERDUE)
    fired = [i for i in nudges if i.step == 1]
    assert len(fired) == CONCURRENT_ITEMS
    assert all(i.state == "done" and i.result == "nudge 1" and i.fired_at == clock() for i in fired)
    # Each fired item scheduled its next nudge exactly once: one pending step 2 per order.
    following = [i for i in nudges if i.step == 2]
    assert sorted(i.order_id for i in following) == seeded.orders
    assert all(i.state == "pending" and i.due_at == clock() + dt.timedelta(hours=1) for i in following)
    # One message per order: every volunteer was nudged exactly once, nobody else was told anything.
    assert await sends_per_recipient(deps) == dict.fromkeys(seeded.volunteers, 1)


# -- a sweep that dies mid-batch ----------------------------------------------------------------------------------
class Crash(BaseException):
    """The process dies here: not an ``Exception``, so the sweep's per-item handling cannot catch it."""


def dying(after: int, how: Callable[[], Awaitable[None]]) -> tuple[dict[str, Handler], asyncio.Event]:
    """The real handlers, except that the call after the first ``after`` calls ``how()`` first
    (and from then on every handler does); the event is set when that happens."""
    calls = 0
    reached = asyncio.Event()

    def wrap(real: Handler) -> Handler:
        async def handler(ctx: ServiceContext, item: ScheduledItem) -> str:
            nonlocal calls
            calls += 1
            if calls > after:
                reached.set()
                await how()
            return await real(ctx, item)

        return handler

    return {kind: wrap(real) for kind, real in rules.HANDLERS.items()}, reached


async def _never() -> None:
    await asyncio.Event().wait()


async def _crash() -> None:
    raise Crash


# The server ending the connection under the sweep is a PostgreSQL case (SQLite has no server).
DEATHS = [(backend, death) for backend in BACKENDS for death in ("crash", "cancelled")] + (
    [("postgresql", "connection_killed")] if "postgresql" in BACKENDS else [])


@pytest.mark.parametrize(("backend", "death"), DEATHS)
async def test_a_sweep_dying_mid_batch_commits_nothing_of_that_batch(deps: Deps, database_url: str,
                                                                      death: str) -> None:
    """Ten due nudges, batches of four; the sweep dies at the sixth item, after the fifth was handled
    (its message and its next nudge written, in its savepoint) in the same, second, batch."""
    seeded = await seed_orders(deps, 10, status="accepted", kind=timetable.OVERDUE)

    if death == "crash":
        handlers, reached = dying(5, _crash)
        with pytest.raises(Crash):
            await make_sweeper(deps, handlers, batch_size=4).sweep()
    elif death == "cancelled":
        handlers, reached = dying(5, _never)
        task = asyncio.create_task(make_sweeper(deps, handlers, batch_size=4).sweep())
        await reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        # What a SIGKILL looks like from the server: the connection goes away mid-transaction (the
        # server rolls back and drops the row locks); the sweep carries on into the real handler.
        killer = create_engine(database_url)

        async def kill_connection() -> None:
            async with killer.connect() as connection:
                killed = (await connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"))).scalars().all()
            assert killed == [True]

        try:
            handlers, reached = dying(5, kill_connection)
            with pytest.raises(SQLAlchemyError):  # whatever the next statement on the dead connection says
                await make_sweeper(deps, handlers, batch_size=4).sweep()
        finally:
            await killer.dispose()
    assert reached.is_set()

    # The first batch committed and stays done; the second left no trace.
    first_four, rest = seeded.orders[:4], seeded.orders[4:]
    after_crash = await items(deps, kind=timetable.OVERDUE)
    assert {(i.order_id, i.step, i.state) for i in after_crash} == (
        {(o, 1, "done") for o in first_four} | {(o, 2, "pending") for o in first_four}
        | {(o, 1, "pending") for o in rest})
    assert all(i.attempts == 0 and i.fired_at is None for i in after_crash if i.order_id in rest)
    assert await sends_per_recipient(deps) == dict.fromkeys(seeded.volunteers[:4], 1)

    # The next sweep (the restarted process) fires the rest, each once.
    report = await make_sweeper(deps, batch_size=4).sweep()
    assert (report.done, report.handled) == (6, 6), report
    assert await sends_per_recipient(deps) == dict.fromkeys(seeded.volunteers, 1)
    assert all(i.state == "done" for i in await items(deps, kind=timetable.OVERDUE) if i.step == 1)
    assert (await make_sweeper(deps, batch_size=4).sweep()).handled == 0


# -- a two-hour outage -------------------------------------------------------------------------------------------------
async def test_an_outage_gives_one_overdue_nudge_per_order(deps: Deps, clock: FakeClock) -> None:
    """Volunteers on their way to appointments 10 minutes from now; the bot is down from now for
    the grace hour plus two nudge intervals. After the restart: one nudge each, the next one an
    interval after the restart, the coordinators told only with that second nudge."""
    settings = deps.settings.reminders
    appointment = clock() + dt.timedelta(minutes=10)
    seeded = await seed_orders(deps, 3, status="on_way", appointment_at=appointment)
    for order in seeded.orders:
        await moved(deps, order)  # on_way with an appointment: only the overdue nudge is scheduled
    first_due = appointment + dt.timedelta(minutes=settings.appointment_grace_minutes)
    assert {(i.kind, i.step, i.due_at) for i in await items(deps)} == {(timetable.OVERDUE, 1, first_due)}

    clock.now = first_due + dt.timedelta(hours=2)  # three nudges (due, +1 h, +2 h) were missed
    restarted = clock()
    sweeper = make_sweeper(deps)
    assert (await sweeper.sweep()).done == 3
    assert (await sweeper.sweep()).handled == 0  # nothing left to catch up at the same moment
    assert await sends_per_recipient(deps) == dict.fromkeys(seeded.volunteers, 1)
    interval = dt.timedelta(minutes=settings.overdue_nudge_minutes)
    pending = [i for i in await items(deps) if i.state == "pending"]
    assert sorted((i.order_id, i.step, i.due_at) for i in pending) == [(o, 2, restarted + interval)
                                                                       for o in seeded.orders]

    clock.advance(interval.total_seconds() - 1)
    assert (await sweeper.sweep()).handled == 0
    clock.advance(1)
    assert (await sweeper.sweep()).done == 3
    assert await sends_per_recipient(deps) == {**dict.fromkeys(seeded.volunteers, 2), None: 3}
    centre = [row for row in await outbox(deps) if row.chat_id == CENTRE_CHAT]
    assert len(centre) == 3  # the second nudge of each order tells the coordinators, once


async def test_an_outage_overtakes_the_escalation_ladder(deps: Deps, clock: FakeClock) -> None:
    """A dispatched order nobody takes; the bot is down from the dispatch for two hours, past steps
    1 (bump, 30 min) and 2 (offer to the other teams, 90 min). After the restart step 1 is skipped
    as overtaken, step 2 speaks once, and step 3 (180 min) still waits for its time."""
    team = await add_team(deps, "repair", -100_000_000_101)
    await add_team(deps, "fixers", -100_000_000_102)  # another team serving repairs
    (order_id,) = (await seed_orders(deps, 1, status="dispatched", with_volunteer=False, team_id=team)).orders
    async with deps.uow() as uow:  # the dispatch: the card in the team's group, then the ladder
        order, group = await uow.orders.get(order_id), await uow.teams.get(team)
        assert order is not None and group is not None
        order.card_outbox_id = await deps.tell(uow).card.post(order, group)
        await timetable.order_moved(deps.service_context(uow, system_user()),
                                    order)
        await uow.commit()
    dispatched = clock()
    ladder = [30, 90, 180]
    assert deps.settings.reminders.escalation_minutes == ladder
    assert [(i.step, i.due_at) for i in await items(deps)] == [
        (step, dispatched + dt.timedelta(minutes=m)) for step, m in enumerate(ladder, start=1)]
    messages_before = len(await outbox(deps))

    clock.advance(2 * HOUR)
    sweeper = make_sweeper(deps)
    report = await sweeper.sweep()
    assert (report.done, report.skipped) == (1, 1), report
    assert (await sweeper.sweep()).handled == 0
    steps = {i.step: i for i in await items(deps)}
    assert (steps[1].state, steps[1].result) == ("skipped", "overtaken by step 2")
    assert (steps[2].state, steps[2].result) == ("done", "offered to 1 teams")
    assert steps[3].state == "pending"
    new = (await outbox(deps))[messages_before:]
    sends = [(row.chat_id, row.payload["text"]) for row in new if row.kind == "send"]
    assert [chat for chat, _ in sends] == [-100_000_000_102], sends  # the offer; no late bump in the team's group
    assert all(f"#{order_id}" in body for _, body in sends)
    assert all(row.chat_id == -100_000_000_101 for row in new if row.kind == "edit")  # the card shows step 2
    assert await _events(deps, order_id) == [("escalated", 2)]

    clock.advance(1 * HOUR)  # 180 minutes after the dispatch: step 3, on time
    assert (await sweeper.sweep()).done == 1
    steps = {i.step: i for i in await items(deps)}
    assert (steps[3].state, steps[3].result) == ("done", "alerted")
    assert len([row for row in await outbox(deps) if row.chat_id == CENTRE_CHAT]) == 1
    assert await _events(deps, order_id) == [("escalated", 2), ("escalated", 3)]


async def test_an_outage_overtakes_the_rating_chase(deps: Deps, clock: FakeClock) -> None:
    """A finished, unrated order; the bot is down from the moment it was done until after the
    second reminder (72 h) was due: one reminder (the second), the first skipped; then, a week
    after it was done, the order closes as "no response"."""
    seeded = await seed_orders(deps, 1, status="done")
    (order_id,), (resident,) = seeded.orders, seeded.residents
    await moved(deps, order_id)
    done_at = clock()
    hours = [*deps.settings.reminders.rating_reminder_hours, deps.settings.reminders.rating_no_response_hours]
    assert hours == [24, 72, 168]
    assert [(i.step, i.due_at) for i in await items(deps)] == [
        (step, done_at + dt.timedelta(hours=h)) for step, h in enumerate(hours, start=1)]

    clock.advance(96 * HOUR)  # 17:30 in Shanghai: outside the default quiet hours
    sweeper = make_sweeper(deps)
    report = await sweeper.sweep()
    assert (report.done, report.skipped, report.postponed) == (1, 1, 0), report
    assert (await sweeper.sweep()).handled == 0
    steps = {i.step: i for i in await items(deps)}
    assert (steps[1].state, steps[1].result) == ("skipped", "overtaken by step 2")
    assert (steps[2].state, steps[2].result) == ("done", "reminder 2")
    assert steps[3].state == "pending"
    # One reminder: its line and the rating question with the stars, both to the resident.
    assert await sends_per_recipient(deps) == {resident: 2}

    clock.now = done_at + dt.timedelta(hours=168)
    assert (await sweeper.sweep()).done == 1
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        assert (order.status, order.no_response) == ("closed", True)
    assert await sends_per_recipient(deps) == {resident: 2}


async def _events(deps: Deps, order_id: int) -> list[tuple[str, int | None]]:
    async with deps.uow() as uow:
        rows = await uow.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                         .order_by(OrderEvent.id))
        return [(e.event, e.detail.get("step")) for e in rows]



# -- a ladder step overtaken by a step another process already fired --------------------------------------------------
if "postgresql" in BACKENDS:  # two sweeps at once need row locks: on SQLite the second waits for the first

    @pytest.mark.parametrize("backend", ["postgresql"])
    async def test_an_overtaken_step_stays_silent_when_another_process_fired_the_later_one(
            deps: Deps, settings: Settings, clock: FakeClock, database_url: str) -> None:
        """After an outage both rating reminders are due. Process A takes step 1 and is slow; process B
        skips A's locked row, takes step 2 and sends it. A must then skip step 1 (overtaken), not send it."""
        seeded = await seed_orders(deps, 1, status="done")
        await moved(deps, seeded.orders[0])
        clock.advance(96 * HOUR)
        holding, go_on = asyncio.Event(), asyncio.Event()

        async def slow_rating(ctx: ServiceContext, item: ScheduledItem) -> str:
            if item.step == 1:
                holding.set()
                await go_on.wait()
            return await rules.rating(ctx, item)

        other_engine = create_engine(database_url)
        try:
            slow = asyncio.create_task(
                make_sweeper(deps, {**rules.HANDLERS, timetable.RATING: slow_rating}, batch_size=1).sweep())
            await holding.wait()
            assert (await make_sweeper(make_deps(settings, other_engine, clock)).sweep()).done == 1  # step 2
            go_on.set()
            await slow
        finally:
            await other_engine.dispose()
        steps = {i.step: i for i in await items(deps)}
        assert (steps[2].state, steps[2].result) == ("done", "reminder 2")
        assert (steps[1].state, steps[1].result) == ("skipped", "overtaken by step 2")
        assert await sends_per_recipient(deps) == {seeded.residents[0]: 2}  # one reminder: its line and the stars
