"""Roster import at district scale: a generated 130,000-row roster (1% broken rows by default).

Generates the file (CSV, or XLSX with ``--format xlsx``), migrates a fresh SQLite file (or the
empty database at ``--database-url``), adds the teams, then times ``import_roster`` (batches of
1,000, a commit each), a ``--dry-run`` re-import and a real re-import (every row unchanged).
Memory: ``ru_maxrss`` of the process (peak resident set, includes Python and the libraries) and
the tracemalloc peak of a separate, traced dry-run pass (Python allocations only).

    python bench/roster_import.py [--rows 130000] [--broken 0.01] [--format csv|xlsx]
                                  [--database-url postgresql+asyncpg://...  (an empty database)]

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bot.services.roster import EXPORT_HEADER, import_roster
from bot.settings import DEFAULT_CATEGORIES
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork

TEAMS = {"repair": ["repair"], "delivery": ["delivery", "housekeeping"], "care": ["consulting", "mediation"],
         "rescue": ["emergency", "other"]}


def generate(path: Path, rows: int, broken: float, seed: int = 1) -> int:
    """Write the roster; returns how many rows are broken (a missing name, a bad phone or an unknown team)."""
    randomiser = random.Random(seed)
    bad = set(randomiser.sample(range(rows), int(rows * broken)))
    codes = list(TEAMS)

    def row(i: int) -> list[str]:
        team = codes[i % len(codes)]
        values = [f"志愿者{i:06d}", f"1{randomiser.choice('3589')}{i:09d}",
                  f"ZJ{i:012d}" if i % 5 else "", f"社区{i % 97:02d}", team, "；".join(TEAMS[team])]
        if i in bad:
            column = randomiser.choice([0, 1, 4])
            values[column] = {0: "", 1: "phone?", 4: "nosuch"}[column]
        return values

    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_HEADER)
            for i in range(rows):
                writer.writerow(row(i))
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("roster")
        sheet.append(EXPORT_HEADER)
        for i in range(rows):
            sheet.append(row(i))
        workbook.save(path)
    return len(bad)


def maxrss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    roster = workdir / f"roster.{args.format}"
    started = time.perf_counter()
    broken = generate(roster, args.rows, args.broken)
    generated_s = time.perf_counter() - started
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.sqlite3"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with UnitOfWork(sessions) as uow:
            for code, categories in TEAMS.items():
                await uow.teams.add(code, f"{code} team", categories)
            await uow.commit()

        def factory() -> UnitOfWork:
            return UnitOfWork(sessions)

        rss_before = maxrss_mib()
        started = time.perf_counter()
        report = await import_roster(factory, roster, skills=DEFAULT_CATEGORIES)
        seconds = time.perf_counter() - started
        rss_after = maxrss_mib()

        started = time.perf_counter()
        dry = await import_roster(factory, roster, skills=DEFAULT_CATEGORIES, dry_run=True)
        dry_seconds = time.perf_counter() - started

        started = time.perf_counter()
        again = await import_roster(factory, roster, skills=DEFAULT_CATEGORIES)
        again_seconds = time.perf_counter() - started

        tracemalloc.start()
        await import_roster(factory, roster, skills=DEFAULT_CATEGORIES, dry_run=True)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        await engine.dispose()
    assert report.failed == broken == len({e.row for e in report.errors}), (report.failed, broken)
    assert again.unchanged == report.created and again.created == again.updated == 0
    return {
        "bench": "roster_import", "database": engine.dialect.name, "format": args.format, "rows": args.rows,
        "file_mib": round(roster.stat().st_size / 2**20, 1), "generate_s": round(generated_s, 2),
        "import": {"seconds": round(seconds, 2), "rows_per_s": round(args.rows / seconds),
                   "created": report.created, "failed": report.failed, "errors_reported": len(report.errors)},
        "dry_run_reimport": {"seconds": round(dry_seconds, 2), "rows_per_s": round(args.rows / dry_seconds),
                             "unchanged": dry.unchanged, "failed": dry.failed},
        "reimport": {"seconds": round(again_seconds, 2), "unchanged": again.unchanged, "failed": again.failed},
        "memory": {"ru_maxrss_mib_before_import": rss_before, "ru_maxrss_mib_after_import": rss_after,
                   "ru_maxrss_mib_end": maxrss_mib(),
                   "tracemalloc_peak_mib_dry_run": round(traced_peak / 2**20, 1)},
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=130_000)
    parser.add_argument("--broken", type=float, default=0.01, help="share of broken rows (default 0.01)")
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as workdir:
        print(json.dumps(asyncio.run(bench(args, Path(workdir))), ensure_ascii=False))


if __name__ == "__main__":
    main()
