"""How much of Telegram's allowance the outbox sender uses, and at what cost in transactions.

The sandbox (flood limits ON: a call over a limit is answered 429) and an :class:`OutboxSender`
on a fresh database share one clock. The clock flows with the machine's time (so database
transactions and HTTP calls take the time they take) and jumps over the sender's idle waits
to the next moment it names, so minutes of Telegram time take seconds. Two bursts:

* group-bound: ``--groups`` groups × ``--per-group`` messages; allowance 20 per group per minute;
* global-bound: ``--people`` people × ``--per-person`` messages; allowance 30 per second overall.

For each it prints the achieved rate as a ratio of the allowance (the messages delivered in the
measuring window, from the first call on, over what the allowance lets through in that window),
the number of 429s and violations, and the sender's transactions per message (every
transaction it begins, reads included, counted with SQLAlchemy's ``begin`` event).

    python bench/outbox.py [--database-url postgresql+asyncpg://... (an empty database)]
                           [--pacing both|database|process]

With ``--pacing both`` (the default) each burst runs with the windows shared through the database
(``[outbox] pacing = "database"``) and with this process's windows only (``"process"``, the
baseline), and ``pacing_ratios`` gives database / process for wall time and transactions.

Prints one JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.sender import OutboxSender
from bot.settings import OutboxSettings
from sandbox import SandboxServer
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.support.clocks import JumpClock

GROUP_ALLOWANCE_PER_MINUTE = 20
GLOBAL_ALLOWANCE_PER_SECOND = 30


def log(message: str) -> None:
    print(f"[outbox] {message}", file=sys.stderr, flush=True)


@dataclass
class Burst:
    name: str
    chats: list[int]
    per_chat: int
    window: float  # seconds of Telegram time measured, from the first call
    allowance: float  # messages the allowance lets through in the window


class Transactions:
    """Transactions begun on the engine while ``counting`` (the sender's rounds only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.counting = False
        event.listen(engine.sync_engine, "begin", self._on_begin)

    def _on_begin(self, _connection: Any) -> None:
        if self.counting:
            self.count += 1


async def run_burst(server: SandboxServer, engine: AsyncEngine, clock: JumpClock, burst: Burst,
                    pacing: str = "database") -> dict[str, Any]:
    sessions = session_factory(engine)

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(sessions, clock=clock)

    async with uow_factory() as uow:  # a clean outbox, then the burst (round-robin over the chats)
        await uow.session.execute(delete(OutboxMessage))
        for index, chat_id in itertools.product(range(burst.per_chat), burst.chats):
            await uow.outbox.send(chat_id, {"text": f"{burst.name} {index}"})
        await uow.commit()
    total = burst.per_chat * len(burst.chats)
    clock.advance(61.0)  # the sandbox's windows forget the previous burst (the sender is new)
    calls_before = len(server.calls)
    transactions = Transactions(engine)
    settings = OutboxSettings(pacing=pacing)  # argparse checked it
    async with telegram.Bot(server.token, base_url=server.bot_api_url) as bot:
        sender = OutboxSender(bot, uow_factory, settings, clock=clock)
        began = time.monotonic()
        rounds = 0
        while True:
            transactions.counting = True
            try:
                await sender.run_once()
            finally:
                transactions.counting = False
            rounds += 1
            sent = sum(1 for c in server.calls[calls_before:] if c.method.lower() == "sendmessage"
                       and c.status == 200)
            if sent >= total:
                break
            wake = sender.next_wakeup
            if wake is not None and wake > clock():
                clock.advance((wake - clock()).total_seconds())
            elif wake is None:
                clock.advance(settings.poll_interval)
        wall = time.monotonic() - began
    calls = [c for c in server.calls[calls_before:] if c.method.lower() == "sendmessage"]
    ok = [c.time for c in calls if c.status == 200]
    first = min(ok)
    in_window = sum(1 for t in ok if t < first + burst.window)
    per_chat: dict[int, list[float]] = {}
    for call in calls:
        if call.status == 200 and call.chat_id is not None:
            per_chat.setdefault(call.chat_id, []).append(call.time)
    gaps = [b - a for times in per_chat.values() for a, b in itertools.pairwise(sorted(times))]
    result = {
        "burst": burst.name, "pacing": pacing, "messages": total, "chats": len(burst.chats),
        "window_s": burst.window, "delivered_in_window": in_window, "allowance_in_window": burst.allowance,
        "rate_vs_allowance": round(in_window / burst.allowance, 3),
        "http_429": sum(1 for c in calls if c.status == 429),
        "telegram_seconds": round(max(ok) - first, 1), "wall_seconds": round(wall, 1), "rounds": rounds,
        "sender_transactions": transactions.count,
        "transactions_per_message": round(transactions.count / total, 3),
        "max_gap_in_a_chat_s": round(max(gaps), 2) if gaps else None,
        "max_to_one_chat_in_any_3s": max(_most_in_window(times, 3.0) for times in per_chat.values()),
        "max_to_one_chat_in_any_60s": max(_most_in_window(times, 60.0) for times in per_chat.values()),
        "max_overall_in_any_1s": _most_in_window(ok, 1.0),
    }
    log(json.dumps(result))
    return result


def _most_in_window(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if t0 <= t < t0 + seconds) for t0 in ordered)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    clock = JumpClock()
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir}/outbox.sqlite3"
        engine = create_engine(url)
        try:
            await upgrade(engine)
            async with SandboxServer(clock=lambda: clock().timestamp()) as server:
                admin = _started(server, "Admin")
                groups = [_group(server, f"Team {i}", admin) for i in range(args.groups)]
                people = [_started(server, f"P{i}") for i in range(args.people)]
                minutes = args.group_window / 60.0
                modes = ["process", "database"] if args.pacing == "both" else [args.pacing]
                results = []
                for mode in modes:
                    results += [
                        await run_burst(server, engine, clock, Burst(
                            "group-bound", groups, args.per_group, args.group_window,
                            len(groups) * GROUP_ALLOWANCE_PER_MINUTE * minutes), mode),
                        await run_burst(server, engine, clock, Burst(
                            "global-bound", people, args.per_person, args.global_window,
                            GLOBAL_ALLOWANCE_PER_SECOND * args.global_window), mode),
                    ]
                violations = len(server.flood.violations)
        finally:
            await engine.dispose()
    return {"database": url.split("+")[0], "defaults": OutboxSettings().model_dump(),
            "bursts": results, "pacing_ratios": _ratios(results), "flood_violations": violations}


def _ratios(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Shared pacing over this process's pacing (the baseline), per burst, from the same run."""
    by = {(r["burst"], r["pacing"]): r for r in results}
    ratios = {}
    for name in ("group-bound", "global-bound"):
        base, shared = by.get((name, "process")), by.get((name, "database"))
        if base and shared:
            ratios[name] = {key: round(shared[key] / base[key], 3) if base[key] else 0.0
                            for key in ("wall_seconds", "transactions_per_message", "rate_vs_allowance")}
    return ratios


def _started(server: SandboxServer, name: str) -> int:
    person = server.people.create_user(name)
    server.people.start(person.id)
    return int(person.id)


def _group(server: SandboxServer, title: str, creator: int) -> int:
    chat = server.people.create_group(title, creator=creator)
    server.people.add_bot(chat.id, creator)
    return int(chat.id)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--per-group", type=int, default=66, help="messages per group (60 fit 3 minutes)")
    parser.add_argument("--group-window", type=float, default=180.0, help="seconds of Telegram time measured")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--per-person", type=int, default=3)
    parser.add_argument("--global-window", type=float, default=15.0, help="seconds of Telegram time measured")
    parser.add_argument("--pacing", choices=("both", "database", "process"), default="both",
                        help="[outbox] pacing to measure (both: the shared windows against the baseline)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))), flush=True)
