"""Benchmark of the measures (docs/measures.md) at district scale: the district of
``bench/district_data.py`` (130,000 volunteers, 200,000 residents, 1,000,000 orders over two years
with their ratings; each order's first accept and last done filled as the bot now keeps them) and
a ledger of 2,000,000 entries over the same two years, then

- ``month``: the whole district's rates of one month (:func:`bot.services.measures.measure`), the
  figures the ``/report`` text leads with — goal ≤ 300 ms;
- ``report``: everything a district's monthly report computes (:func:`bot.services.measures.report_data`:
  the month, every month of the year to date, the 20 teams and the 40 communities, each set in
  grouped passes) — the issue's goal is ≤ 300 ms for it too; ``report_parts`` times its three
  grouped sets (by month, by team, by community) once each after the runs, to show where it goes.

Each is also printed as a ratio to a bare primary-key lookup in its own unit of work, measured in
the same run on the same database. ``report`` reads the measures' summaries (migration 0016,
docs/measures.md "Summaries"); ``report_parts`` are the raw grouped passes it no longer needs, for
comparison. ``write_path``: what the summaries cost the writers — one order accepted, done (with its
ledger entry), rated and closed, as the moves write it, in one transaction rolled back, with the
summaries' triggers and without them (dropped inside that transaction), the median of each and
their ratio.

    python bench/report.py [--scale 1.0] [--entries 2000000] [--repeat 5]
                           [--path .bench-cache/report.sqlite3] [--database-url postgresql+asyncpg://...]

The build is kept (SQLite file, or the schema ``report_bench`` of ``--database-url``) and reused
when its order count matches; ``--rebuild`` forces a new one. Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.district import KINDS, engine_for
from bench.district_data import (
    COLUMNS,
    DISTRICT,
    HISTORY,
    NOW,
    ORDERS,
    TEAMS,
    Layout,
    Rows,
    cast,
    chain,
    district,
)
from bench.kept import kept_build
from bot.domain.measures import Period, Scope
from bot.services import measures
from bot.services.context import MeasureConfig
from bot.settings import DEFAULT_CATEGORIES
from storage.db import session_factory
from storage.measures import Groups
from storage.models import Order, User
from storage.repositories import household_key
from storage.summaries import Sql
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
MONTH = Period.month(2026, 10)  # the last whole month before the district's NOW
SCHEMA = "report_bench"
GOAL_MS = 300.0
WRITES = 15  # orders taken through accept, done and rate, each with and without the summaries
VOLUNTEER = 6  # the cast's volunteer (bench/district_data.py VERA)
ORDER_COLUMNS = (*COLUMNS["orders"], "accepted_at", "done_at")
ENTRY_COLUMNS = ("id", "user_id", "team_id", "source", "order_id", "round", "minutes", "served_at", "created_at")
LAYOUT = Layout({**COLUMNS, "orders": ORDER_COLUMNS, "hours_entries": ENTRY_COLUMNS,
                 "reached_households": ("id", "key", "community", "building_id", "reached_at")}, DISTRICT.json_columns)
KEPT = {"users", "teams", "volunteers", "orders", "ratings"}  # the audit log and schedule are not read


def with_times(tables: Rows) -> Rows:
    """The district's rows, orders with the first accept and last done the bot now writes (two and
    three fifths of the way from placing to settling, as the district's audit events have them),
    then the households reached that placing them wrote (each address once, at its first order)."""
    index = {c: i for i, c in enumerate(COLUMNS["orders"])}
    first: dict[str, tuple[str, dt.datetime]] = {}
    for table, rows in tables:
        if table not in KEPT:
            continue
        if table == "orders":
            out = []
            for row in rows:
                created, updated, status = row[index["created_at"]], row[index["updated_at"]], row[index["status"]]
                taken = status in ("accepted", "on_way", "done", "closed")
                out.append((*row, created + (updated - created) * 2 / 5 if taken else None,
                            created + (updated - created) * 3 / 5 if status in ("done", "closed") else None))
                key = household_key(row[index["community"]], row[index["building"]], row[index["address_detail"]])
                if key not in first:
                    first[key] = (row[index["community"]].lower(), created)
            rows = out
        yield table, rows
    households = [(i, key, community, None, at) for i, (key, (community, at)) in enumerate(first.items(), start=1)]
    for chunk in range(0, len(households), 20_000):
        yield "reached_households", households[chunk:chunk + 20_000]


def entries(count: int, first_user: int, users: int, seed: int = 5) -> Rows:
    """``count`` ledger entries over the two years, by volunteers among users ``first_user`` on."""
    rng = random.Random(seed)
    start, span = NOW - HISTORY, HISTORY.total_seconds()
    chunk: list[tuple[Any, ...]] = []
    for e in range(1, count + 1):
        served = start + dt.timedelta(seconds=span * (e - 0.5) / count)
        source = "order" if rng.random() < 0.8 else "activity" if rng.random() < 0.9 else "honour"
        chunk.append((e, rng.randint(first_user, first_user + users - 1), rng.randint(1, TEAMS), source,
                      rng.randint(1, ORDERS) if source == "order" else None, 1 if source == "order" else None,
                      rng.randint(20, 240), served, served))
        if len(chunk) == 20_000:
            yield "hours_entries", chunk
            chunk = []
    yield "hours_entries", chunk


def all_rows(scale: float, count: int) -> Rows:
    first = cast(DEFAULT_CATEGORIES)
    # the district's volunteers with Telegram follow its residents (bench/district_data.py)
    first_volunteer = 7 + 1 + round(200_000 * scale)
    return chain(iter(first.items()), with_times(district(scale, DEFAULT_CATEGORIES, KINDS)),
                 entries(count, first_volunteer, round(130_000 * scale * 0.7)))


async def build(args: argparse.Namespace) -> tuple[str, str | None, float]:
    """The database to measure (reused when it holds the expected orders); its URL, schema and build seconds."""
    return await kept_build(database_url=args.database_url, path=args.path, schema=SCHEMA, table="orders",
                            expected=round(ORDERS * args.scale), rebuild=args.rebuild,
                            rows=lambda: all_rows(args.scale, args.entries), layout=LAYOUT, analyze=True)


async def measure(args: argparse.Namespace, url: str, schema: str | None) -> dict[str, Any]:
    engine = engine_for(url, schema)
    sessions = session_factory(engine)
    config = MeasureConfig(response_minutes=60)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock=lambda: NOW, read_only=True)

    times: dict[str, list[float]] = {"pk_lookup": [], "month": [], "month_text": [], "report": []}
    try:
        async with uow() as work:
            start, end = measures.utc(MONTH, TZ)
            counts = {"orders": await work.session.scalar(select(func.count()).select_from(Order)),
                      "month_orders": await work.session.scalar(select(func.count()).select_from(Order).where(
                          Order.created_at >= start, Order.created_at < end))}
        rng = random.Random(3)
        for round_ in range(args.repeat + 1):  # the first round warms the caches and is not counted
            for _ in range(20):
                began = time.perf_counter()
                async with uow() as work:
                    await work.session.get(User, rng.randint(1, 1000))
                if round_:
                    times["pk_lookup"].append(time.perf_counter() - began)
            began = time.perf_counter()
            async with uow() as work:
                district = await measures.place(work, Scope())
                month = await measures.measure(work, config, district, MONTH, TZ)
            if round_:
                times["month"].append(time.perf_counter() - began)
            began = time.perf_counter()
            async with uow() as work:  # /report's text: the same month from the summaries
                quickly = await measures.measure_quickly(work, config, await measures.place(work, Scope()), MONTH, TZ)
            if round_:
                times["month_text"].append(time.perf_counter() - began)
            assert quickly == month, "the summaries' month differs from the raw rows'"
            began = time.perf_counter()
            async with uow() as work:
                await measures.report_data(work, config, Scope(), MONTH, TZ)
            if round_:
                times["report"].append(time.perf_counter() - began)
        parts = await report_parts(uow, config)
        writes = await write_path(engine)
    finally:
        await engine.dispose()
    pk = statistics.median(times["pk_lookup"])
    result: dict[str, Any] = {**counts, "pk_lookup_ms": round(pk * 1000, 2)}
    for name in ("month", "month_text", "report"):
        median = statistics.median(times[name])
        result[name] = {"median_ms": round(median * 1000, 1), "ratio_to_pk_lookup": round(median / pk, 1),
                        "pass": median * 1000 <= GOAL_MS}
    result["report_parts_ms"] = parts
    result["write_path"] = writes
    result["satisfaction"] = [month.satisfaction.numerator, month.satisfaction.denominator]
    result["load_average"] = round(os.getloadavg()[0], 1)
    return result


async def report_parts(uow: Callable[[], UnitOfWork], config: MeasureConfig) -> dict[str, float]:
    """The grouped passes of the district's report, each timed once in its own unit of work."""
    parts: dict[str, float] = {}
    async with uow() as work:
        district = await measures.place(work, Scope())
        months = measures.months_to(MONTH)
        starts = [measures.utc(month, TZ)[0] for month in months]
        year = (starts[0], measures.utc(months[-1], TZ)[1])
        teams = [t.id for t in await work.teams.every()]
        names = [name.lower() for name in await work.measures.communities()]
    for name, groups, bounds, keys in (
            ("by_month", Groups("period", (*starts, year[1])), year, list(range(len(months)))),
            ("by_team", Groups("team"), measures.utc(MONTH, TZ), teams),
            ("by_community", Groups("community"), measures.utc(MONTH, TZ), names)):
        began = time.perf_counter()
        async with uow() as work:
            await measures.each(work, config, district, bounds, groups, keys)
        parts[name] = round((time.perf_counter() - began) * 1000, 1)
    return parts


async def write_path(engine: Any) -> dict[str, Any]:
    """accept → done (+ its ledger entry) → rating → closed of one dispatched order, as the moves write
    them, in one transaction rolled back: with the summaries' triggers, and without (dropped in the
    same transaction, so nothing changes); each order both ways, alternately."""
    postgresql = engine.dialect.name == "postgresql"
    async with engine.connect() as connection:
        orders = (await connection.execute(text(
            "SELECT id, resident_id, team_id, created_at FROM orders WHERE status = 'dispatched' ORDER BY id DESC "
            f"LIMIT {WRITES}"))).all()

    def at(minutes: int) -> Any:
        value = NOW + dt.timedelta(minutes=minutes)
        return value if postgresql else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    steps = [
        ("UPDATE orders SET status = 'accepted', volunteer_id = :volunteer, accepted_at = :accepted, "
         "updated_at = :accepted WHERE id = :id AND status = 'dispatched'"),
        "UPDATE orders SET status = 'done', done_at = :done, updated_at = :done WHERE id = :id AND status = 'accepted'",
        ("INSERT INTO hours_entries (user_id, team_id, source, order_id, round, minutes, served_at, created_at) "
         "VALUES (:volunteer, :team, 'order', :id, 1, 60, :accepted, :done)"),
        ("INSERT INTO ratings (order_id, round, resident_id, stars, solved, created_at) "
         "VALUES (:id, 1, :resident, 5, true, :rated)"),
        "UPDATE orders SET status = 'closed', updated_at = :rated WHERE id = :id AND status = 'done'",
    ]
    times: dict[str, list[float]] = {"with": [], "without": []}
    for order_id, resident, team, _ in orders:
        values = {"id": order_id, "resident": resident, "team": team, "volunteer": VOLUNTEER, "accepted": at(1),
                  "done": at(61), "rated": at(90)}
        for variant in ("with", "without"):
            async with engine.connect() as connection:
                transaction = await connection.begin()
                if variant == "without":
                    for statement in Sql(postgresql).drop():
                        await connection.exec_driver_sql(statement)
                began = time.perf_counter()
                for step in steps:
                    await connection.execute(text(step), values)
                times[variant].append(time.perf_counter() - began)
                await transaction.rollback()
    with_ms, without_ms = (statistics.median(times[v]) * 1000 for v in ("with", "without"))
    return {"orders": len(orders), "with_summaries_ms": round(with_ms, 2), "without_ms": round(without_ms, 2),
            "ratio": round(with_ms / without_ms, 2)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, schema, built = await build(args)
    return {"backend": "postgresql" if schema else "sqlite", "build_s": round(built, 1),
            **await measure(args, url, schema)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the district (1.0: a million orders)")
    parser.add_argument("--entries", type=int, default=2_000_000, help="ledger entries")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", type=Path, default=Path(".bench-cache/report.sqlite3"))
    parser.add_argument("--database-url", help="a PostgreSQL database to build in (schema report_bench)")
    parser.add_argument("--rebuild", action="store_true")
    print(json.dumps(asyncio.run(run(parser.parse_args())), ensure_ascii=False))


if __name__ == "__main__":
    main()
