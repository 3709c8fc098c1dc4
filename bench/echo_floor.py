"""The floor: throughput and latency of a bare python-telegram-bot echo bot against the sandbox.

Every later bot benchmark is compared against this number, so it measures only what no bot can
avoid: the sandbox, real HTTP and PTB's own update loop. Sandbox server, bot and driver each run in
their own process (no shared event loop); flood limits are off so they do not cap the floor.

    python bench/echo_floor.py [--users 50] [--seconds 10] [--mode polling|webhook|both]

Prints exactly one JSON line on stdout; progress goes to stderr. Other benches import
:func:`measure_floor` to report ratios against a floor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import SandboxClient, SimUser

TOKEN = "123456789:ECHO-floor-token"
SECRET = "echo-floor-secret_1"
MODES = ("polling", "webhook")
REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0  # seconds for a subprocess to come up
REPLY_TIMEOUT = 10.0  # seconds a user waits for one echo before counting an error


def log(message: str) -> None:
    print(f"[echo_floor] {message}", file=sys.stderr, flush=True)


# -- the bot (runs in its own process) ----------------------------------------------------------
def run_bot(mode: str, base_url: str, token: str) -> None:
    """The bare echo bot: nothing but PTB's defaults and one handler, so it is the floor."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = (ApplicationBuilder().token(token).base_url(f"{base_url}/bot")
           .base_file_url(f"{base_url}/file/bot").build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    if mode == "polling":
        app.run_polling(poll_interval=0, timeout=10)
    else:
        port = free_port()
        app.run_webhook(listen="127.0.0.1", port=port, url_path="tg",
                        webhook_url=f"http://127.0.0.1:{port}/tg", secret_token=SECRET)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- subprocesses -----------------------------------------------------------------------------
async def _stop(process: asyncio.subprocess.Process, name: str) -> None:
    """SIGTERM (both the sandbox and PTB shut down cleanly on it), SIGKILL if that hangs."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        log(f"{name} ignored SIGTERM; killing it")
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def sandbox_process() -> AsyncIterator[str]:
    """A fresh sandbox server per mode (no state carried over); yields its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandbox", "--port", "0", "--token", TOKEN, "--no-flood-limits",
        cwd=REPO, env=_child_env(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)
        base_url = line.decode().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"sandbox did not start (printed {line!r})")
        yield base_url
    finally:
        await _stop(process, "sandbox")


@contextlib.asynccontextmanager
async def bot_process(mode: str, base_url: str, sandbox: SandboxClient) -> AsyncIterator[None]:
    """The echo bot in its own process, yielded once it polls or its webhook is set."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).resolve()), "--run-bot", mode, "--base-url", base_url,
        cwd=REPO, env=_child_env(PTB_TIMEDELTA="1"), stdin=asyncio.subprocess.DEVNULL,
        stdout=sys.stderr.fileno())  # keep our stdout for the one JSON line
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not await _bot_ready(mode, sandbox):
            if process.returncode is not None:
                raise RuntimeError(f"{mode} bot exited with {process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{mode} bot not ready within {STARTUP_TIMEOUT}s")
            await asyncio.sleep(0.05)
        yield
    finally:
        await _stop(process, f"{mode} bot")


async def _bot_ready(mode: str, sandbox: SandboxClient) -> bool:
    if mode == "polling":
        return bool(await sandbox.calls("getUpdates"))
    return bool((await sandbox.webhook_stats()).get("url"))


# -- the driver -------------------------------------------------------------------------------
@dataclass
class Tally:
    """What the closed loops observed, shared by all users of one mode."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def _user_loop(user: SimUser, index: int, deadline: float, tally: Tally,
                     messages_per_user: int | None) -> None:
    """One person's closed loop: send, wait for the echo, repeat until the deadline."""
    n = 0
    while time.monotonic() < deadline and (messages_per_user is None or n < messages_per_user):
        n += 1
        text = f"u{index}-m{n}"
        try:
            sent = await user.send(text)
            while True:  # a late echo of an earlier, timed-out message is skipped (and counted)
                reply = await user.next_message(timeout=REPLY_TIMEOUT)
                if reply.text == text:
                    tally.latencies.append(reply.date - sent["created_at"])
                    break
                tally.errors += 1
        except Exception as error:  # noqa: BLE001 - a bench counts failures instead of dying
            tally.errors += 1
            log(f"user {index}: {type(error).__name__}: {error}")


def _summary(tally: Tally, elapsed: float) -> dict[str, Any]:
    ms = sorted(1000 * x for x in tally.latencies)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) >= 2 else (ms[0] if ms else None)
    return {
        "updates_per_s": round(len(ms) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(statistics.median(ms), 2) if ms else None,
        "p99_ms": round(p99, 2) if p99 is not None else None,
        "messages": len(ms),
        "errors": tally.errors,
        "elapsed_s": round(elapsed, 3),
    }


async def measure_mode(mode: str, seconds: float, users: int,
                       messages_per_user: int | None = None) -> dict[str, Any]:
    """Start a fresh sandbox and echo bot for ``mode``, run the closed loops, stop both."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    async with sandbox_process() as base_url, contextlib.AsyncExitStack() as stack:
        control = await stack.enter_async_context(SandboxClient(base_url))
        await stack.enter_async_context(bot_process(mode, base_url, control))
        # One client (one small connection pool) per person: httpcore scans its whole pool on
        # every request, so a shared pool of ~50 connections made the driver the bottleneck.
        clients = [await stack.enter_async_context(SandboxClient(base_url)) for _ in range(users)]
        people = [await c.create_user(f"User{i}") for i, c in enumerate(clients)]
        await asyncio.gather(*(p.start() for p in people))
        await asyncio.gather(*(p.next_message(timeout=STARTUP_TIMEOUT) for p in people))
        log(f"{mode}: {users} users started the bot; measuring for {seconds}s")
        tally = Tally()
        began = time.monotonic()
        deadline = began + seconds
        async with asyncio.timeout(seconds + 3 * REPLY_TIMEOUT):  # hard bound even if something hangs
            await asyncio.gather(*(_user_loop(p, i, deadline, tally, messages_per_user)
                                   for i, p in enumerate(people)))
        result = _summary(tally, time.monotonic() - began)
        if mode == "webhook":  # a retried push would hide inside the latencies
            result["webhook_failures"] = (await control.webhook_stats())["failures"]
    log(f"{mode}: {result}")
    return result


async def measure_floor(seconds: float = 10.0, users: int = 50, modes: Sequence[str] = MODES,
                        messages_per_user: int | None = None) -> dict[str, Any]:
    """The floor for each mode, measured one after another (never concurrently)."""
    return {mode: await measure_mode(mode, seconds, users, messages_per_user) for mode in modes}


def versions() -> dict[str, str]:
    import telegram

    return {"python": platform.python_version(), "ptb": telegram.__version__}


# -- command line -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per mode")
    parser.add_argument("--messages", type=int, default=None, help="also stop each user after this many")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--run-bot", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):  # SIGTERM unwinds the finally blocks too
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    modes = MODES if args.mode == "both" else (args.mode,)
    floor = await measure_floor(args.seconds, args.users, modes, args.messages)
    seconds: float | int = int(args.seconds) if args.seconds == int(args.seconds) else args.seconds
    return {"bench": "echo_floor", "users": args.users, "seconds": seconds, **floor, **versions()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.run_bot:
        run_bot(args.run_bot, args.base_url, TOKEN)
        return
    try:
        result = asyncio.run(_main(args))
    except (asyncio.CancelledError, KeyboardInterrupt):  # subprocesses are already stopped
        log("interrupted; no result")
        sys.exit(143)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
