"""Sweep cost: 10,000 due reminders claimed and turned into outbox rows.

Migrates a fresh SQLite file (or the empty database at ``--database-url``) and writes ``--items``
finished, unrated orders, each with its own resident, and each order's rating chase as
``timetable.order_moved`` schedules it (three steps); the orders were done 25 hours ago, so every
first step is an hour overdue and the other two are not due. Then it times one
``Sweeper.sweep()`` with the real handlers (``bot.services.schedule.rules.HANDLERS``): every due item
taken under its row lock, its order and people read, the step-2 check (``_overtaken``), the reminder
line and the rating question queued in the outbox, the item marked done, one commit per batch of
``--batch-size``. With ``--sweepers N`` that many sweeps run at once, each on its own engine (bot
processes sharing the database). Last, an idle sweep: the cost of every tick with nothing due.

The clock is fixed at 17:30 in Shanghai, outside the default quiet hours, so nothing is postponed.

    python bench/sweep.py [--items 10000] [--batch-size 50] [--sweepers 1]
                          [--database-url postgresql+asyncpg://...  (an empty database)]

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bot.adapters.app import service_config
from bot.adapters.context import Deps
from bot.i18n import I18n
from bot.services import timetable
from bot.services.schedule import rules
from bot.services.schedule.sweep import Sweeper
from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Order, OutboxMessage, ScheduledItem, User
from storage.uow import UnitOfWork

NOW = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)  # 17:30 in Asia/Shanghai
DONE_AT = NOW - dt.timedelta(hours=25)
CHUNK = 2_000  # rows per INSERT while seeding


def clock() -> dt.datetime:
    return NOW


async def seed(sessions: Any, items: int, settings: Settings) -> None:
    """One volunteer; per item a resident, a done order and its three rating steps."""
    hours = [*settings.reminders.rating_reminder_hours, settings.reminders.rating_no_response_hours]
    async with UnitOfWork(sessions, clock=clock) as uow:
        volunteer = await uow.users.ensure(9_000_000_000, "Vera", "zh")
        for start in range(0, items, CHUNK):
            count = min(CHUNK, items - start)
            residents = list(await uow.session.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [{"telegram_id": 7_000_000_000 + start + i, "first_name": f"resident{start + i}", "language": "zh",
                  "created_at": DONE_AT} for i in range(count)]))
            orders = list(await uow.session.scalars(
                insert(Order).returning(Order.id, sort_by_parameter_order=True),
                [{"resident_id": resident, "volunteer_id": volunteer.id, "status": "done", "category": "repair",
                  "community": "阳光小区", "when_text": "today", "contact_name": "—", "contact_phone": "+8613800000000",
                  "description": "厨房水管漏水", "hours": 1.0, "created_at": DONE_AT, "updated_at": DONE_AT}
                 for resident in residents]))
            await uow.session.execute(insert(ScheduledItem), [
                {"kind": timetable.RATING, "order_id": order, "user_id": resident, "step": step,
                 "due_at": DONE_AT + dt.timedelta(hours=h), "state": "pending", "attempts": 0, "created_at": DONE_AT}
                for order, resident in zip(orders, residents, strict=True)
                for step, h in enumerate(hours, start=1)])
        await uow.commit()


async def count(sessions: Any, statement: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(statement) or 0)


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.sqlite3"
    settings = Settings(database={"url": url})
    engines = [create_engine(url) for _ in range(args.sweepers)]
    try:
        await upgrade(engines[0])
        sessions = session_factory(engines[0])
        started = time.perf_counter()
        await seed(sessions, args.items, settings)
        seed_seconds = time.perf_counter() - started
        i18n, config = I18n(settings.default_language), service_config(settings)
        sweepers = [Sweeper(Deps(settings=settings, config=config, i18n=i18n, engine=engine,
                                 sessions=session_factory(engine), clock=clock),
                            rules.HANDLERS, batch_size=args.batch_size) for engine in engines]

        started = time.perf_counter()
        reports = await asyncio.gather(*(sweeper.sweep() for sweeper in sweepers))
        seconds = time.perf_counter() - started

        started = time.perf_counter()
        idle = await sweepers[0].sweep()
        idle_seconds = time.perf_counter() - started

        outbox_rows = await count(sessions, select(func.count()).select_from(OutboxMessage))
        done = await count(sessions, select(func.count()).select_from(ScheduledItem)
                           .where(ScheduledItem.state == "done"))
        pending = await count(sessions, select(func.count()).select_from(ScheduledItem)
                              .where(ScheduledItem.state == "pending"))
        dialect = engines[0].dialect.name
    finally:
        for engine in engines:
            await engine.dispose()
    handled = sum(r.done for r in reports)
    assert handled == done == args.items and idle.handled == 0, (reports, done, idle)
    assert outbox_rows == 2 * args.items and pending == 2 * args.items, (outbox_rows, pending)
    return {
        "bench": "sweep", "database": dialect, "items": args.items, "batch_size": args.batch_size,
        "sweepers": args.sweepers, "seed_s": round(seed_seconds, 2),
        "sweep": {"seconds": round(seconds, 2), "items_per_s": round(args.items / seconds),
                  "ms_per_item": round(1000 * seconds / args.items, 3), "done": handled,
                  "per_sweeper_done": [r.done for r in reports], "outbox_rows_written": outbox_rows,
                  "skipped": sum(r.skipped for r in reports), "postponed": sum(r.postponed for r in reports),
                  "failed": sum(r.failed for r in reports)},
        "idle_sweep_ms": round(1000 * idle_seconds, 2),
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="due reminders (default 10000)")
    parser.add_argument("--batch-size", type=int, default=50, help="items per sweep transaction (default 50, "
                                                                       "the [reminders] batch_size default)")
    parser.add_argument("--sweepers", type=int, default=1, help="sweeps at once, each on its own engine")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as workdir:
        print(json.dumps(asyncio.run(bench(args, Path(workdir))), ensure_ascii=False))


if __name__ == "__main__":
    main()
