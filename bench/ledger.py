"""Benchmark of the hours ledger at district scale: 130,000 volunteers with a year of entries
(about two million rows), then one volunteer's "my hours" (the whole service call, as the button
runs it: the approval check, the totals, the message queued, the commit) for many random volunteers,
and the whole district's monthly registry export to XLSX and to CSV.

Each is also printed as a ratio to a baseline measured in the same run on the same database: a
bare primary-key lookup in its own unit of work for "my hours", a bare ``SELECT`` of the month's
rows (fetched, not written) for the export. Goals: "my hours" p95 ≤ 20 ms, each export ≤ 10 s.

    python bench/ledger.py [--volunteers 130000] [--per-volunteer 15.4] [--samples 400]
                           [--path .bench-cache/ledger.sqlite3] [--database-url postgresql+asyncpg://...]

The build is kept (SQLite file, or the schema ``ledger_bench`` of ``--database-url``) and reused
when its row count matches; ``--rebuild`` forces a new one. Prints one JSON line on stdout.
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
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.district import engine_for
from bench.district_data import Layout
from bench.kept import kept_build
from bot.i18n import I18n
from bot.services import hours
from bot.services.context import ServiceConfig
from bot.services.hours_files import export_month
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.db import session_factory
from storage.models import HoursEntry, User
from storage.uow import UnitOfWork

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2026
NOW = dt.datetime(YEAR, 12, 20, 1, 0, tzinfo=dt.UTC)  # "my hours" on 20 December: month, year, total
MONTH = 11  # the export's month
TEAMS, ORDER_POOL, ACTIVITIES_PER_TEAM = 20, 50_000, 100
SCHEMA = "ledger_bench"
GOALS = {"my_hours_p95_ms": 20.0, "export_s": 10.0}
CHUNK = 50_000

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "telegram_id", "first_name", "language", "is_coordinator", "unreachable", "on_duty",
              "menu_roles", "created_at"),
    "teams": ("id", "code", "name", "categories", "chat_id", "active", "created_at"),
    "volunteers": ("id", "user_id", "team_id", "name", "phone", "status", "registry_number", "community", "skills",
                   "source", "occupation", "hobbies", "kind", "organisation", "is_leader", "created_at"),
    "orders": ("id", "resident_id", "status", "category", "urgent", "description", "community", "building",
               "address_detail", "when_text", "contact_name", "contact_phone", "team_id", "volunteer_id", "round",
               "on_behalf", "no_response", "created_at", "updated_at"),
    "activities": ("id", "team_id", "title", "place", "starts_at", "ends_at", "capacity", "taken", "bring",
                   "signup_deadline", "status", "code", "also_teams", "cards", "created_at", "updated_at"),
    "hours_entries": ("id", "user_id", "team_id", "source", "order_id", "round", "activity_id", "corrects_id",
                      "minutes", "claimed_minutes", "served_at", "ended_at", "reason", "created_at"),
}
LEDGER = Layout(COLUMNS, frozenset({"categories", "skills", "also_teams", "cards"}))


def rows(volunteers: int, per_volunteer: float, seed: int = 13) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The district's rows, table by table, in chunks: volunteers (users 1..N, one team each), a pool
    of orders, the teams' activities, and a year of entries: 80 % orders, 18 % activities, 1.5 %
    honour, 0.5 % corrections of an earlier entry."""
    rng = random.Random(seed)
    start = dt.datetime(YEAR, 1, 1, tzinfo=TZ).astimezone(dt.UTC)
    span = (dt.datetime(YEAR + 1, 1, 1, tzinfo=TZ).astimezone(dt.UTC) - start).total_seconds()
    yield "teams", [(t, f"t{t:02d}", f"第{t}志愿服务队", [DEFAULT_CATEGORIES[t % len(DEFAULT_CATEGORIES)]],
                     -1_001_000_000_000 - t, True, start) for t in range(1, TEAMS + 1)]
    users, members = [], []
    for u in range(1, volunteers + 1):
        users.append((u, 9_000_000_000 + u, f"v{u}", "zh", False, False, True, "", start))
        members.append((u, u, u % TEAMS + 1, f"志愿者{u}", "+8613800000000", "approved", f"ZJ{u:08d}",
                        "东湖社区", [], "roster", "", "", "resident", "", False, start))
        if len(users) == CHUNK:
            yield "users", users
            yield "volunteers", members
            users, members = [], []
    yield "users", users
    yield "volunteers", members
    resident = 1  # the orders' resident: who placed them does not matter here
    yield "orders", [(o, resident, "closed", DEFAULT_CATEGORIES[o % len(DEFAULT_CATEGORIES)], False, "", "东湖社区",
                      "", "", "today", "王", "+8613800000001", o % TEAMS + 1, None, 1, False, False, start, start)
                     for o in range(1, ORDER_POOL + 1)]
    activities = []
    for a in range(1, TEAMS * ACTIVITIES_PER_TEAM + 1):
        begins = start + dt.timedelta(seconds=rng.random() * span)
        activities.append((a, a % TEAMS + 1, f"义务服务日 {a}", "社区活动室", begins, begins + dt.timedelta(hours=3),
                           30, 0, "", begins, "finished", f"A{a}", [], {}, start, start))
    yield "activities", activities
    total = int(volunteers * per_volunteer)
    entries: list[tuple[Any, ...]] = []
    for e in range(1, total + 1):
        user = rng.randint(1, volunteers)
        team = user % TEAMS + 1
        served = start + dt.timedelta(seconds=int(rng.random() * span))
        draw = rng.random()
        minutes = rng.randint(20, 240)
        if draw < 0.80:
            row = (e, user, team, "order", rng.randint(1, ORDER_POOL), 1, None, None, minutes, minutes, served,
                   served + dt.timedelta(minutes=minutes), None, served)
        elif draw < 0.98:
            row = (e, user, team, "activity", None, None, rng.randint(1, TEAMS * ACTIVITIES_PER_TEAM), None,
                   minutes, None, served, served + dt.timedelta(minutes=minutes), None, served)
        elif draw < 0.995 or not entries:
            row = (e, user, team, "honour", None, None, None, None, 60 * rng.randint(1, 4), None, served, None,
                   "表彰", served)
        else:  # a correction of an entry of this chunk: same person, team and time, signed minutes
            original = entries[rng.randrange(len(entries))]
            row = (e, original[1], original[2], "correction", original[4], original[5], original[6], original[0],
                   -min(15, original[8]), None, original[10], original[11], "更正", served)
        entries.append(row)
        if len(entries) == CHUNK:
            yield "hours_entries", entries
            entries = []
    yield "hours_entries", entries


async def build(args: argparse.Namespace) -> tuple[str, str | None, float]:
    """The database to measure (reused when it holds the expected rows); its URL, schema and build seconds."""
    return await kept_build(database_url=args.database_url, path=args.path, schema=SCHEMA, table="hours_entries",
                            expected=int(args.volunteers * args.per_volunteer), rebuild=args.rebuild,
                            rows=lambda: rows(args.volunteers, args.per_volunteer), layout=LEDGER)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2)}


async def measure(args: argparse.Namespace, url: str, schema: str | None) -> dict[str, Any]:
    engine = engine_for(url, schema)
    sessions = session_factory(engine)
    config = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), timezone=TZ)
    i18n = I18n()
    rng = random.Random(7)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, clock=lambda: NOW)

    try:
        async with uow() as work:
            entries = await work.session.scalar(select(func.count()).select_from(HoursEntry))
            month = hours.month_period(TZ, YEAR, MONTH)
            month_rows = await work.session.scalar(select(func.count()).select_from(HoursEntry).where(
                HoursEntry.served_at >= month[0], HoursEntry.served_at < month[1]))
        people = [rng.randint(1, args.volunteers) for _ in range(args.samples)]
        bare, mine = [], []
        for user_id in people[:20]:  # warm the caches and the connection pool
            async with uow() as work:
                await work.session.get(User, user_id)
        for user_id in people:
            began = time.perf_counter()
            async with uow() as work:
                await work.session.get(User, user_id)
            bare.append(time.perf_counter() - began)
            began = time.perf_counter()
            async with uow() as work:
                user = await work.users.get(user_id)
                assert user is not None
                await hours.summary(service_context(work, user, i18n=i18n, config=config))
            mine.append(time.perf_counter() - began)
        async with uow() as work:  # the "my hours" messages are no part of the build
            await work.session.execute(text("DELETE FROM outbox"))
            await work.commit()
        bare_month = bare_cpu = 0.0
        for _warm_then_timed in range(2):  # the first pass reads the month's pages into the cache
            began, cpu = time.perf_counter(), time.process_time()
            async with uow() as work:
                fetched = len((await work.session.execute(
                    select(HoursEntry.id, HoursEntry.user_id, HoursEntry.source, HoursEntry.served_at,
                           HoursEntry.minutes).where(HoursEntry.served_at >= month[0],
                                                     HoursEntry.served_at < month[1]))).all())
            bare_month, bare_cpu = time.perf_counter() - began, time.process_time() - cpu
        exports = {}
        with tempfile.TemporaryDirectory() as folder:
            for suffix in ("xlsx", "csv"):
                began, cpu = time.perf_counter(), time.process_time()
                report = await export_month(uow, Path(folder) / f"export.{suffix}", YEAR, MONTH, TZ)
                seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
                exports[suffix] = {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "rows": report.rows,
                                   "ratio_to_bare_select": round(seconds / bare_month, 1),
                                   "pass": seconds <= GOALS["export_s"]}
    finally:
        await engine.dispose()
    my_hours, baseline = summary(mine), summary(bare)
    return {"entries": entries, "month_rows": month_rows, "volunteers": args.volunteers,
            "my_hours": {**my_hours, "ratio_to_pk_lookup_median": round(my_hours["median_ms"] / baseline["median_ms"],
                                                                           1),
                         "pass": my_hours["p95_ms"] <= GOALS["my_hours_p95_ms"]},
            "pk_lookup": baseline,
            "bare_month_select": {"seconds": round(bare_month, 2), "cpu_s": round(bare_cpu, 2), "rows": fetched},
            "load_average": round(os.getloadavg()[0], 1),
            "export": exports}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, schema, built = await build(args)
    result = await measure(args, url, schema)
    return {"backend": "postgresql" if schema else "sqlite", "build_s": round(built, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=130_000)
    parser.add_argument("--per-volunteer", type=float, default=15.4, help="entries a volunteer a year (~2M rows)")
    parser.add_argument("--samples", type=int, default=400, help="random volunteers whose hours are shown")
    parser.add_argument("--path", type=Path, default=Path(".bench-cache/ledger.sqlite3"))
    parser.add_argument("--database-url", help="a PostgreSQL database to build in (schema ledger_bench)")
    parser.add_argument("--rebuild", action="store_true")
    print(json.dumps(asyncio.run(run(parser.parse_args())), ensure_ascii=False))


if __name__ == "__main__":
    main()
