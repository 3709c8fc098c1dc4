"""Housekeeping at scale: how fast a pass prunes, how long each batch holds the database, and what
the indexes do, on SQLite, beside the floor measured in the same run.

A database of ``--chats`` private chats with ``--per-chat`` finished outbox rows each (sends, one in
ten edited, some failed or superseded), all older than the retention, and as many handled update
ids, is pruned by :class:`bot.services.housekeeping.Housekeeper` on fresh copies with:

- ``migrated``: the schema of the migrations (0007 adds ``ix_processed_updates_seen_at``,
  ``ix_outbox_finished`` (status, created_at) and ``ix_outbox_target`` for housekeeping);
- ``no-target``: without ``ix_outbox_target``. Deleting a row another row may refer to (an edit's
  ``target_id``) makes the database look for such rows (the foreign key check, on SQLite and
  PostgreSQL alike); without an index each deleted row costs a scan of the table;
- ``before-0007``: without any of the three (the schema before this issue).

The floor is deleting the same number of rows in batches by primary key, without any check
(``DELETE … WHERE id IN (…)`` on the ``migrated`` schema with foreign keys off): what no
pruning can avoid. Each variant runs at most ``--seconds``; rows per second are compared.

    python bench/prune.py [--chats 2000] [--per-chat 100] [--batch 1000] [--seconds 20]

Prints exactly one JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is not an installed package
    sys.path.insert(0, str(REPO))

from bot.services.housekeeping import Housekeeper, Retention  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # the pruner's clock; every row is older than 30 days
OLD = "2026-01-01 00:00:00.000000"
INDEXES = {  # statements that take the migrated schema back to each variant
    "migrated": [],
    "no-target": ["DROP INDEX ix_outbox_target"],
    "before-0007": ["DROP INDEX ix_outbox_target", "DROP INDEX ix_outbox_finished",
                    "DROP INDEX ix_processed_updates_seen_at"],
}


def log(message: str) -> None:
    print(f"[prune] {message}", file=sys.stderr, flush=True)


async def build(path: Path, chats: int, per_chat: int) -> int:
    """The database of the module's docstring; returns the number of outbox rows."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    rows: list[tuple[Any, ...]] = []
    row_id = 0
    for chat in range(chats):
        sends: list[int] = []
        for n in range(per_chat):
            row_id += 1
            if n % 10 == 9 and sends:  # an edit of the chat's previous message
                rows.append((row_id, "edit", 10_000 + chat, sends[-1], "superseded" if n % 20 == 19 else "sent",
                             row_id))
            else:
                sends.append(row_id)
                rows.append((row_id, "send", 10_000 + chat, None, "failed" if n % 25 == 0 else "sent", row_id))
    with sqlite3.connect(path) as database:
        database.executemany(
            "INSERT INTO outbox (id, kind, chat_id, target_id, payload, status, attempts, not_before, created_at, "
            f"message_id) VALUES (?, ?, ?, ?, '{{}}', ?, 1, '{OLD}', '{OLD}', ?)", rows)
        database.executemany("INSERT INTO processed_updates (key, seen_at) VALUES (?, ?)",
                             [(f"update-{n}", OLD) for n in range(len(rows))])
    database.close()
    return len(rows)


async def prune(path: Path, batch: int, seconds: float) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(engine)
    batches: list[float] = []
    last = time.perf_counter()
    began = last
    housekeeper: Housekeeper

    async def pause(_: float) -> None:
        nonlocal last
        moment = time.perf_counter()
        batches.append(moment - last)
        if moment - began > seconds:
            housekeeper.stop()
        last = time.perf_counter()

    housekeeper = Housekeeper(lambda: UnitOfWork(sessions, clock=lambda: NOW),
                              Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=30),
                                        batch_size=batch, batch_pause_seconds=0.0), pause=pause)
    try:
        report = await housekeeper.prune()
    finally:
        await engine.dispose()
    elapsed = time.perf_counter() - began
    ms = sorted(1000 * x for x in batches) or [0.0]
    return {"outbox_rows": report.outbox, "update_ids": report.processed_updates, "seconds": round(elapsed, 2),
            "rows_per_s": round((report.outbox + report.processed_updates) / elapsed),
            "batch_p50_ms": round(statistics.median(ms), 1), "batch_max_ms": round(ms[-1], 1),
            "complete": not housekeeper.stopping}


def floor(path: Path, batch: int, total: int) -> dict[str, Any]:
    """Deleting ``total`` outbox rows and as many update ids by key, in batches, no checks."""
    with sqlite3.connect(path) as database:
        database.execute("PRAGMA foreign_keys=OFF")
        began = time.perf_counter()
        for start in range(1, total + 1, batch):
            database.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE id >= ? LIMIT ?)",
                             (start, batch))
            database.execute("DELETE FROM processed_updates WHERE key IN (SELECT key FROM processed_updates LIMIT ?)",
                             (batch,))
            database.commit()
        elapsed = time.perf_counter() - began
    database.close()
    return {"seconds": round(elapsed, 2), "rows_per_s": round(2 * total / elapsed)}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="prune-bench-") as tmp:
        template = Path(tmp) / "template.sqlite3"
        total = await build(template, args.chats, args.per_chat)
        log(f"{total} outbox rows and as many update ids in {args.chats} chats")
        results: dict[str, Any] = {}
        for name, statements in INDEXES.items():
            copy = Path(tmp) / f"{name}.sqlite3"
            shutil.copy(template, copy)
            with sqlite3.connect(copy) as database:
                for statement in statements:
                    database.execute(statement)
            database.close()
            results[name] = await prune(copy, args.batch, args.seconds)
            log(f"{name}: {results[name]}")
        copy = Path(tmp) / "floor.sqlite3"
        shutil.copy(template, copy)
        results["floor"] = floor(copy, args.batch, total)
        log(f"floor: {results['floor']}")
    base = results["floor"]["rows_per_s"]
    return {"bench": "prune", "chats": args.chats, "per_chat": args.per_chat, "outbox_rows": total,
            "batch": args.batch, **results,
            **{f"{name}_per_floor": round(results[name]["rows_per_s"] / base, 3) for name in INDEXES}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--per-chat", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="at most this long per variant")
    print(json.dumps(asyncio.run(main_async(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
