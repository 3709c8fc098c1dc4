"""Start-up: how long until ``volunteer-loop run`` is ready, beside baselines measured in the same run.

Each figure is the median of ``--runs`` fresh processes, timed from just before the process is
spawned (so the interpreter's own start is included):

- ``python_pass``: ``python -c pass`` until it exits — the interpreter alone, the first baseline;
- ``import_cli``: ``python -c "import bot.cli"`` until it exits;
- ``bare_ptb_ready``: a bare python-telegram-bot ``Application`` (one handler, nothing else) until
  its first ``getUpdates`` reaches the sandbox — the second baseline: what no PTB bot can avoid;
- ``run_ready``: ``python -m bot --config FILE run`` until its first ``getUpdates`` reaches the
  sandbox. "Ready" is that request: the bot has started, checked the schema, initialised (getMe),
  run its post-init and asks for updates, so the next update sent is handled. The database (SQLite
  unless ``--database-url``) is migrated once before the timed runs, as a restarted bot finds it.

The sandbox records each call's arrival on the wall clock; the spawn time is taken on the same clock,
so the driver's polling of the sandbox adds nothing to the figures. Every ratio is to a baseline of
this run: ``import_cli`` and ``run_ready`` to ``python_pass``, ``run_ready`` also to ``bare_ptb_ready``.

    python bench/startup.py [--runs 5] [--database-url postgresql+asyncpg://...  (an empty database)]

Prints exactly one JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ is not an installed package
    sys.path.insert(0, str(REPO))

READY_TIMEOUT = 30.0  # seconds a bot may take to ask for updates before the run fails


def log(message: str) -> None:
    print(f"[startup] {message}", file=sys.stderr, flush=True)


def run_bare_bot(base_url: str, token: str) -> None:
    """The second baseline: PTB's defaults and one handler, polling (imports nothing of ours)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and update.message.text is not None:
            await update.message.reply_text(update.message.text)

    app = (ApplicationBuilder().token(token).base_url(f"{base_url}/bot")
           .base_file_url(f"{base_url}/file/bot").build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0, timeout=10)


async def _process_seconds(*args: str) -> float:
    """Spawn ``python *args`` and time it until it exits (it must succeed)."""
    from bench.echo_floor import REPO as ROOT
    from bench.echo_floor import _child_env

    began = time.time()
    process = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=ROOT, env=_child_env(),
                                                   stdin=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError(f"python {' '.join(args)} exited with {process.returncode}")
    return time.time() - began


async def _ready_seconds(command: list[str], sandbox: Any, log_path: Path) -> float:
    """Spawn ``command``, wait until its first getUpdates reaches the sandbox, stop it; the seconds
    from the spawn to that request (on the sandbox's clock)."""
    from bench.echo_floor import _child_env, _stop

    calls = await sandbox.calls()
    after = calls[-1]["seq"] if calls else 0
    with log_path.open("wb") as output:
        began = time.time()
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=_child_env(PTB_TIMEDELTA="1"), stdin=asyncio.subprocess.DEVNULL,
            stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not (polls := await sandbox.calls("getUpdates", after=after)):
            if process.returncode is not None:
                raise RuntimeError(f"{command} exited with {process.returncode} before it was ready: "
                                   f"{log_path.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command} not ready within {READY_TIMEOUT}s")
            await asyncio.sleep(0.02)
        return float(polls[0]["time"]) - began
    finally:
        await _stop(process, command[-1])


def _write_config(path: Path, *, base_url: str, database_url: str, token: str) -> None:
    q = json.dumps  # a JSON string of plain characters is a valid TOML basic string
    path.write_text("\n".join([
        "[telegram]", f"token = {q(token)}", f"base_url = {q(base_url + '/bot')}",
        f"base_file_url = {q(base_url + '/file/bot')}", "", "[database]", f"url = {q(database_url)}", ""]),
        encoding="utf-8")


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 1)


async def measure(runs: int, database_url: str | None) -> dict[str, Any]:
    from bench.echo_floor import TOKEN, sandbox_process
    from sandbox import SandboxClient

    python_pass = [await _process_seconds("-c", "pass") for _ in range(runs)]
    import_cli = [await _process_seconds("-c", "import bot.cli") for _ in range(runs)]
    log(f"python -c pass {_median_ms(python_pass)} ms, import bot.cli {_median_ms(import_cli)} ms")
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        folder = Path(tmp)
        async with sandbox_process() as base_url, SandboxClient(base_url) as sandbox:
            config = folder / "config.toml"
            _write_config(config, base_url=base_url, token=TOKEN,
                          database_url=database_url or f"sqlite+aiosqlite:///{folder}/bot.sqlite3")
            migrated = await _process_seconds("-m", "bot", "--config", str(config), "db", "upgrade")
            log(f"schema migrated in {migrated:.2f}s (not timed as start-up)")
            bare = [await _ready_seconds([sys.executable, str(Path(__file__).resolve()), "--run-bare",
                                          "--base-url", base_url, "--token", TOKEN], sandbox, folder / "bare.log")
                    for _ in range(runs)]
            ready = [await _ready_seconds([sys.executable, "-m", "bot", "--config", str(config), "run"],
                                          sandbox, folder / "bot.log") for _ in range(runs)]
    log(f"bare PTB ready {_median_ms(bare)} ms, volunteer-loop run ready {_median_ms(ready)} ms")
    base, floor = statistics.median(python_pass), statistics.median(bare)
    return {
        "bench": "startup", "runs": runs, "database": "postgresql" if database_url else "sqlite",
        "python_pass_ms": _median_ms(python_pass),
        "import_cli_ms": _median_ms(import_cli),
        "bare_ptb_ready_ms": _median_ms(bare),
        "run_ready_ms": _median_ms(ready),
        "import_cli_per_python": round(statistics.median(import_cli) / base, 2),
        "bare_ptb_ready_per_python": round(floor / base, 2),
        "run_ready_per_python": round(statistics.median(ready) / base, 2),
        "run_ready_per_bare_ptb": round(statistics.median(ready) / floor, 2),
        "run_ready_all_ms": [round(1000 * x, 1) for x in ready],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="processes per figure (the median is printed)")
    parser.add_argument("--database-url", help="an empty database for the bot (default: a fresh SQLite file)")
    parser.add_argument("--run-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.run_bare:  # the baseline's own process: it imports nothing but PTB
        run_bare_bot(args.base_url, args.token)
        return
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(asyncio.run(measure(args.runs, args.database_url))), flush=True)


if __name__ == "__main__":
    main()
