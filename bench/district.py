"""District scale: the loop's reads on two years of a district against the same on an empty database.

Builds once (and caches) a database with 130,000 volunteers in 20 teams, 200,000 residents and
1,000,000 orders placed over two years, with their audit events, ratings and schedule rows, then
measures, each side by side with the same operation on a freshly migrated database that holds only
the cast (the teams, five coordinators, one volunteer, one resident), in the same run:

* the monthly report (``digests.monthly_report``: October's closed orders and ratings per team, each
  team's leaders and the centre told), rolled back;
* ``/find SKILL COMMUNITY`` and ``/find SKILL`` (``people.find_volunteers``: the rows, the pages, the
  outbox row);
* the daily and weekly digests, rolled back;
* an idle sweep tick (``Sweeper.sweep`` with nothing due);
* the accept path (``claim.accept``: a volunteer taking a dispatched order, its follow-ups and commit);
* the process's peak RSS (the build runs in a child process, so it does not count).

Every operation alternates between the two databases, ``--repeat`` times; the medians are printed
with the district's as a ratio to the empty database's, and against the goals of issue 11 (monthly
report ≤ 300 ms, ``/find`` ≤ 50 ms, accept ≤ 1.2× the empty database's, RSS ≤ 150 MB).

The cache: SQLite files ``<cache-dir>/district-v<VERSION>_<head revision>_s<scale>.sqlite3``; on PostgreSQL
the schemas ``district_v<VERSION>_<head revision>_s<scale>`` (kept) and ``district_empty`` (rebuilt each run) in the
database of ``--database-url``. What a run writes (accepted orders, outbox rows) is deleted at its
end, so the cache stays as built. SQLite gets no ``ANALYZE`` (the bot never runs one); PostgreSQL is
analysed after the build, as autovacuum would.

    python bench/district.py [--scale 0.01] [--repeat 5] [--cache-dir .bench-cache]
                             [--database-url postgresql+asyncpg://...]

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is not an installed package
    sys.path.insert(0, str(REPO))

from bench.district_data import (  # noqa: E402
    NOW,
    RITA,
    VERA,
    Kinds,
    cast,
    chain,
    community,
    district,
    team_chat,
    write_postgresql,
    write_sqlite,
)
from bot.adapters.app import service_config  # noqa: E402
from bot.adapters.context import Deps  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.services import claim, people  # noqa: E402
from bot.services.schedule import digests, rules  # noqa: E402
from bot.services.schedule.sweep import Sweeper, system_user  # noqa: E402
from bot.services.timetable import APPOINTMENT, ESCALATE, LEASE, RATING  # noqa: E402
from bot.settings import DEFAULT_CATEGORIES, Settings  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import alembic_config, upgrade  # noqa: E402
from storage.models import Order, OrderEvent, OutboxMessage, ScheduledItem, User  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

VERSION = 2  # bump when what the build writes changes: older caches are then ignored
FIND_SKILL, FIND_COMMUNITY = "repair", "Community 07"
ACCEPTS = 10  # accepted orders per repetition and database
GOALS = {"monthly_report_ms": 300, "find_ms": 50, "accept_ratio": 1.2, "rss_mb": 150}
KINDS = Kinds(escalate=ESCALATE, lease=LEASE, appointment=APPOINTMENT, rating=RATING)


def clock() -> dt.datetime:
    return NOW


def engine_for(url: str, schema: str | None) -> AsyncEngine:
    """The bot's engine; on PostgreSQL confined to ``schema`` (the cache lives beside the tests' ``public``)."""
    engine = create_engine(url)
    if schema is not None:
        @event.listens_for(engine.sync_engine, "connect")
        def _search_path(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET search_path TO {schema}")
            cursor.close()
            dbapi_connection.commit()  # a SET inside a transaction that rolls back is undone
    return engine


async def _schema_state(url: str, schema: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            built = await connection.scalar(select(func.to_regclass(f"{schema}.bench_district_built")))
            present = await connection.scalar(select(func.to_regnamespace(schema)))
    finally:
        await engine.dispose()
    return "built" if built is not None else "partial" if present is not None else "absent"


async def _reset_schema(url: str, schema: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        await engine.dispose()


async def build(url: str, schema: str | None, scale: float) -> None:
    """Migrate, then write the cast and (``scale`` > 0) the district."""
    if schema is not None:
        await _reset_schema(url, schema)
    engine = engine_for(url, schema)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    tables = iter([*cast(DEFAULT_CATEGORIES).items()])
    if scale > 0:
        tables = chain(tables, district(scale, DEFAULT_CATEGORIES, KINDS))
    if schema is None:
        write_sqlite(Path(make_url(url).database or ""), tables)
    else:
        await write_postgresql(url, schema, tables)
        engine = engine_for(url, schema)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("CREATE TABLE bench_district_built (version integer)")
        finally:
            await engine.dispose()


def cached_district(args: argparse.Namespace) -> tuple[str, str | None, float | None]:
    """The district database's URL and schema, built in a child process unless cached; the build's seconds."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()  # a new migration: a new cache
    key = f"v{VERSION}_{head}_s{args.scale:g}".replace(".", "_")
    if args.database_url:
        url, schema = args.database_url, f"district_{key}"
        if asyncio.run(_schema_state(url, schema)) == "built":
            return url, schema, None
    else:
        args.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = args.cache_dir / f"district-{key}.sqlite3"
        url, schema = f"sqlite+aiosqlite:///{path}", None
        if path.exists():
            return url, schema, None
    started = time.perf_counter()
    building = path.with_suffix(".building") if schema is None else None
    if building is not None:
        for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            stale.unlink(missing_ok=True)
    subprocess.run([sys.executable, __file__, "--build", f"sqlite+aiosqlite:///{building}" if building else url,
                    "--schema", schema or "", "--scale", str(args.scale)], check=True)
    if building is not None:
        building.rename(path)
    return url, schema, time.perf_counter() - started


# -- measuring -------------------------------------------------------------------------------------------------
class Database:
    """One side of the comparison: its engine, the wiring, and what a run wrote (to delete it after)."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.engine = engine_for(url, schema)
        settings = Settings(database={"url": url})
        self.deps = Deps(settings=settings, config=service_config(settings), i18n=I18n(settings.default_language),
                         engine=self.engine, sessions=session_factory(self.engine), clock=clock)
        self.accepted: list[int] = []
        self.outbox_before = 0

    async def start(self) -> None:
        async with self.deps.uow() as uow:
            self.outbox_before = int(await uow.session.scalar(select(func.max(OutboxMessage.id))) or 0)

    async def person(self, uow: UnitOfWork, user_id: int) -> User:
        user = await uow.users.get(user_id)
        assert user is not None
        return user

    async def monthly_report(self) -> None:
        item = ScheduledItem(kind=digests.MONTHLY, key="monthly_report:2026-11-01", due_at=NOW, step=0)
        async with self.deps.uow() as uow:  # rolled back: the cache stays as built
            await digests.monthly_report(self.deps.service_context(uow, system_user()), item)

    async def daily_digest(self) -> None:
        item = ScheduledItem(kind=digests.DAILY, key="daily_digest:2026-11-02", due_at=NOW, step=0)
        async with self.deps.uow() as uow:
            await digests.daily_digest(self.deps.service_context(uow, system_user()), item)

    async def weekly_digest(self) -> None:
        item = ScheduledItem(kind=digests.WEEKLY, key="weekly_digest:2026-11-02", due_at=NOW, step=0)
        async with self.deps.uow() as uow:
            await digests.weekly_digest(self.deps.service_context(uow, system_user()), item)

    async def find(self, community: str | None) -> None:
        async with self.deps.uow() as uow:
            ctx = self.deps.service_context(uow, await self.person(uow, 1))
            await people.find_volunteers(ctx, FIND_SKILL, community, None)

    async def sweep(self) -> None:
        report = await Sweeper(self.deps, rules.HANDLERS).sweep()
        assert report.handled == 0, report

    async def dispatched(self, count: int) -> list[int]:
        """Fresh orders waiting in team 1's group, for Vera to accept."""
        async with self.deps.uow() as uow:
            ids = [(await uow.orders.add(
                resident_id=RITA, status="dispatched", category="repair", community=community(7),
                when_text="today", contact_name="Rita", contact_phone="+8613700000000", team_id=1)).id
                for _ in range(count)]
            await uow.commit()
        self.accepted += ids
        return ids

    async def accept(self, order_id: int) -> None:
        async with self.deps.uow() as uow:
            await claim.accept(self.deps.service_context(uow, await self.person(uow, VERA)), order_id, team_chat(1))

    async def clean(self) -> None:
        """Delete what the run wrote: the accepted orders with their rows, and the outbox rows."""
        async with self.deps.uow() as uow:
            for table in (ScheduledItem, OrderEvent):
                await uow.session.execute(delete(table).where(table.order_id.in_(self.accepted)))
            await uow.session.execute(delete(Order).where(Order.id.in_(self.accepted)))
            await uow.session.execute(delete(OutboxMessage).where(OutboxMessage.id > self.outbox_before))
            await uow.commit()

    async def count(self, model: Any) -> int:
        async with self.deps.uow() as uow:
            return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def timed(operation: Awaitable[None]) -> float:
    started = time.perf_counter()
    await operation
    return time.perf_counter() - started


async def compare(empty: Database, full: Database, repeat: int) -> dict[str, Any]:
    """Each operation on both databases in turn, ``repeat`` times (after one warm-up each); medians in ms."""
    operations: dict[str, Callable[[Database], Awaitable[None]]] = {
        "monthly_report": Database.monthly_report,
        "find_skill_community": lambda db: db.find(FIND_COMMUNITY),
        "find_skill": lambda db: db.find(None),
        "daily_digest": Database.daily_digest,
        "weekly_digest": Database.weekly_digest,
        "idle_sweep": Database.sweep,
    }
    results: dict[str, Any] = {}
    for name, operation in operations.items():
        times: dict[str, list[float]] = {"empty": [], "district": []}
        for round_ in range(repeat + 1):
            for side, db in (("empty", empty), ("district", full)):
                seconds = await timed(operation(db))
                if round_:
                    times[side].append(seconds)
        results[name] = _summary(times)
    times = {"empty": [], "district": []}
    for round_ in range(repeat + 1):
        for side, db in (("empty", empty), ("district", full)):
            for order_id in await db.dispatched(ACCEPTS):
                seconds = await timed(db.accept(order_id))
                if round_:
                    times[side].append(seconds)
    results["accept"] = _summary(times)
    return results


def _summary(times: dict[str, list[float]]) -> dict[str, float]:
    empty, district_ = (1000 * statistics.median(times[side]) for side in ("empty", "district"))
    return {"empty_ms": round(empty, 2), "district_ms": round(district_, 2), "ratio": round(district_ / empty, 2)}


async def measure(args: argparse.Namespace, url: str, schema: str | None, empty_url: str,
                  empty_schema: str | None) -> dict[str, Any]:
    await build(empty_url, empty_schema, 0)
    empty, full = Database(empty_url, empty_schema), Database(url, schema)
    try:
        await upgrade(full.engine)  # a no-op on a cache of this version; fails loudly on an older schema
        for db in (empty, full):
            await db.start()
        sizes = {"volunteers": await full.count(User.metadata.tables["volunteers"]),
                 "orders": await full.count(Order), "order_events": await full.count(OrderEvent),
                 "schedule": await full.count(ScheduledItem)}
        results = await compare(empty, full, args.repeat)
    finally:
        for db in (empty, full):
            await db.clean()
            await db.engine.dispose()
    return {"sizes": sizes, **results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the district (default 1: 130k "
                                                                 "volunteers, 1M orders; 0.01 for a quick run)")
    parser.add_argument("--repeat", type=int, default=5, help="measurements of each operation per database")
    parser.add_argument("--cache-dir", type=Path, default=Path(".bench-cache"), help="where SQLite builds are kept")
    parser.add_argument("--database-url", help="a PostgreSQL database to build in (schemas district_*; "
                                               "default: SQLite files in --cache-dir)")
    parser.add_argument("--build", help=argparse.SUPPRESS)  # the child process that builds the cache
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        asyncio.run(build(args.build, args.schema or None, args.scale))
        return

    url, schema, build_seconds = cached_district(args)
    if args.database_url:
        empty_url, empty_schema = args.database_url, "district_empty"
    else:
        empty_path = args.cache_dir / "district-empty.sqlite3"
        for stale in (empty_path, Path(f"{empty_path}-wal"), Path(f"{empty_path}-shm")):
            stale.unlink(missing_ok=True)
        empty_url, empty_schema = f"sqlite+aiosqlite:///{empty_path}", None
    results = asyncio.run(measure(args, url, schema, empty_url, empty_schema))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    find_ms = results["find_skill_community"]["district_ms"]
    report = {
        "bench": "district", "database": make_url(url).get_backend_name(), "scale": args.scale,
        "repeat": args.repeat, "build_s": None if build_seconds is None else round(build_seconds, 1),
        **results, "peak_rss_mb": round(rss_mb, 1),
        "goals": {"monthly_report_ms": [results["monthly_report"]["district_ms"], GOALS["monthly_report_ms"]],
                  "find_ms": [find_ms, GOALS["find_ms"]],
                  "accept_ratio": [results["accept"]["ratio"], GOALS["accept_ratio"]],
                  "rss_mb": [round(rss_mb, 1), GOALS["rss_mb"]]},
        "python": sys.version.split()[0],
    }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
