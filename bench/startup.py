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

Bytecode: an installed package has its modules compiled (``__pycache__``), as the libraries here
have; the project's own modules may not be (``PYTHONDONTWRITEBYTECODE`` is set on this machine).
By default every measured process writes and reads bytecode under a temporary
``PYTHONPYCACHEPREFIX``, after one untimed run of each kind, so the bot and the baselines start
alike; ``--no-bytecode-cache`` measures with the caller's environment as it is.

    python bench/startup.py [--runs 5] [--no-bytecode-cache]
                            [--database-url postgresql+asyncpg://...  (an empty database)]

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


def child_environment(bytecode_cache: Path | None) -> dict[str, str]:
    """The measured processes' environment: the repository on the path, and with ``bytecode_cache``
    compiled modules written and read there (see the module's docstring)."""
    from bench.echo_floor import _child_env

    environment = _child_env(PTB_TIMEDELTA="1")
    if bytecode_cache is not None:
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    return environment


async def _process_seconds(environment: dict[str, str], *args: str) -> float:
    """Spawn ``python *args`` and time it until it exits (it must succeed)."""
    began = time.time()
    process = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=REPO, env=environment,
                                                   stdin=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError(f"python {' '.join(args)} exited with {process.returncode}")
    return time.time() - began


async def _ready_seconds(environment: dict[str, str], command: list[str], sandbox: Any, log_path: Path) -> float:
    """Spawn ``command``, wait until its first getUpdates reaches the sandbox, stop it; the seconds
    from the spawn to that request (on the sandbox's clock)."""
    from bench.echo_floor import _stop

    calls = await sandbox.calls()
    after = calls[-1]["seq"] if calls else 0
    with log_path.open("wb") as output:
        began = time.time()
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=environment, stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output)
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


async def measure(runs: int, database_url: str | None, *, bytecode_cache: bool = True) -> dict[str, Any]:
    from bench.echo_floor import TOKEN, sandbox_process
    from sandbox import SandboxClient

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        folder = Path(tmp)
        environment = child_environment(folder / "pycache" if bytecode_cache else None)
        async with sandbox_process() as base_url, SandboxClient(base_url) as sandbox:
            config = folder / "config.toml"
            _write_config(config, base_url=base_url, token=TOKEN,
                          database_url=database_url or f"sqlite+aiosqlite:///{folder}/bot.sqlite3")
            migrated = await _process_seconds(environment, "-m", "bot", "--config", str(config), "db", "upgrade")
            log(f"schema migrated in {migrated:.2f}s (not timed as start-up)")
            kinds = {
                "python_pass": lambda: _process_seconds(environment, "-c", "pass"),
                "import_cli": lambda: _process_seconds(environment, "-c", "import bot.cli"),
                "bare_ptb_ready": lambda: _ready_seconds(
                    environment, [sys.executable, str(Path(__file__).resolve()), "--run-bare", "--base-url", base_url,
                                  "--token", TOKEN], sandbox, folder / "bare.log"),
                "run_ready": lambda: _ready_seconds(
                    environment, [sys.executable, "-m", "bot", "--config", str(config), "run"], sandbox,
                    folder / "bot.log"),
            }
            for kind in kinds.values():  # untimed: the bytecode is written (if cached), the files are read once
                await kind()
            figures: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(runs):  # interleaved, so a busier moment of the machine touches every kind alike
                for name, kind in kinds.items():
                    figures[name].append(await kind())
    for name, values in figures.items():
        log(f"{name}: median {_median_ms(values)} ms")
    python, bare, ready = (statistics.median(figures[name]) for name in ("python_pass", "bare_ptb_ready", "run_ready"))
    return {
        "bench": "startup", "runs": runs, "database": "postgresql" if database_url else "sqlite",
        "bytecode_cache": bytecode_cache,
        **{f"{name}_ms": _median_ms(values) for name, values in figures.items()},
        "import_cli_per_python": round(statistics.median(figures["import_cli"]) / python, 2),
        "bare_ptb_ready_per_python": round(bare / python, 2),
        "run_ready_per_python": round(ready / python, 2),
        "run_ready_per_bare_ptb": round(ready / bare, 2),
        "run_ready_all_ms": [round(1000 * x, 1) for x in figures["run_ready"]],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="processes per figure (the median is printed)")
    parser.add_argument("--database-url", help="an empty database for the bot (default: a fresh SQLite file)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="measure with the environment as it is (no temporary bytecode cache)")
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
        print(json.dumps(asyncio.run(measure(args.runs, args.database_url,
                                             bytecode_cache=not args.no_bytecode_cache))), flush=True)


if __name__ == "__main__":
    main()
