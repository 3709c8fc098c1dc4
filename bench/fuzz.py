"""The long fuzz run: at least 10,000 generated inputs against the real bot through the sandbox.

The same fuzzer as the short run in ``tests/fuzz`` (same people, inputs and invariants, see
``tests/fuzz/world.py``), in one process: the sandbox server, the bot (polling or webhook, on a
fresh SQLite file unless ``--database-url``) and Hypothesis generating examples until ``--inputs``
inputs were played. Every invariant is checked after every input; nothing stops the run except a
bot that no longer answers.

    python bench/fuzz.py [--inputs 10000] [--mode polling|webhook] [--seed 1]
                         [--exclude malformed,replay] [--max-size 12] [--reports FILE] [--ack-timeout 10]
                         [--database-url postgresql+asyncpg://...  (an empty database)]

Prints one JSON line on stdout: inputs, examples, seconds, inputs per second, failures by
invariant, inputs by kind; progress and the failing examples go to stderr (or ``--reports``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ and tests/ are not installed packages
    sys.path.insert(0, str(REPO))
for _name in [name for name in os.environ if name.upper().startswith("VLOOP_")]:
    del os.environ[_name]  # the run's settings are all given here
os.environ.setdefault("PTB_TIMEDELTA", "1")

from sandbox import SandboxServer  # noqa: E402
from tests.e2e.harness import FAST_FLOOD, bot_running, make_settings  # noqa: E402
from tests.fuzz.inputs import KINDS, examples, tour  # noqa: E402
from tests.fuzz.invariants import ErrorRecords, Tally  # noqa: E402
from tests.fuzz.world import WEBHOOK_RETRY_DELAY, Fuzzer, fuzz, make_cast, set_the_stage  # noqa: E402


def log(message: str) -> None:
    print(f"[fuzz] {message}", file=sys.stderr, flush=True)


async def main(args: argparse.Namespace) -> dict[str, object]:
    excluded = {k for k in args.exclude.split(",") if k}
    unknown = excluded - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown input kinds: {sorted(unknown)}; known: {', '.join(KINDS)}")
    kinds = tuple(k for k in KINDS if k not in excluded)
    tally = Tally(report_file=Path(args.reports) if args.reports else None)
    if tally.report_file is not None:
        tally.report_file.write_text("", encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/fuzz.sqlite3"
        async with SandboxServer(flood_limits=FAST_FLOOD, webhook_retry_delay=WEBHOOK_RETRY_DELAY) as server, \
                server.client() as sandbox:
            cast = await make_cast(sandbox)
            settings = make_settings(server, database_url, admins=[cast.admin.id],
                                     coordinators_chat_id=cast.coordinators_group.id, default_language="zh")
            with ErrorRecords().installed() as errors:
                async with bot_running(settings, args.mode) as application:
                    log("setting the stage")
                    stage = await set_the_stage(cast, sandbox)
                    fuzzer = Fuzzer(application, sandbox, stage, tally, errors, ack_timeout=args.ack_timeout)
                    await fuzzer.prepare()
                    tally.started = time.monotonic()
                    progress = asyncio.create_task(report_progress(tally))
                    try:
                        # Examples average about half of --max-size inputs; generate more than enough.
                        await fuzz(fuzzer, examples(kinds, args.max_size),
                                   max_examples=4 * args.inputs // max(1, args.max_size) + 50,
                                   seed=args.seed, stop_after=args.inputs,
                                   explicit=[[i for i in part if i.kind in kinds] for part in tour()])
                    finally:
                        progress.cancel()
    summary = tally.summary()
    summary.update({"mode": args.mode, "seed": args.seed, "excluded": sorted(excluded), "ack_timeout": args.ack_timeout,
                    "database": "postgresql" if args.database_url else "sqlite"})
    if not args.reports and tally.reports:
        print("\n\n".join(tally.reports), file=sys.stderr)
    return summary


async def report_progress(tally: Tally) -> None:
    while True:
        await asyncio.sleep(30)
        log(f"{tally.inputs} inputs, {tally.examples} examples, "
            f"failures {dict(+tally.violations)}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10_000, help="play until this many inputs (default 10000)")
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--seed", type=int, default=1, help="Hypothesis seed (the same seed, the same inputs)")
    parser.add_argument("--exclude", default="", help=f"input kinds to leave out, comma-separated ({','.join(KINDS)})")
    parser.add_argument("--max-size", type=int, default=12, help="inputs per example at most")
    parser.add_argument("--ack-timeout", type=float, default=10.0,
                        help="seconds an update may take to be acknowledged before it counts as unacknowledged")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reports", default=None, help="write every failing example to this file, as it happens "
                                                        "(default: the first 40 to stderr at the end)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse())), ensure_ascii=False), flush=True)
