"""Closed loops through the real Volunteer Loop bot, beside the echo floor measured in the same run.

Sandbox (``python -m sandbox --no-flood-limits``), bot (``python -m bot --config FILE run``, on a
fresh SQLite file unless ``--database-url``) and this driver each run in their own process. The
centre is set up through the bot as people would do it (admin appoints the coordinator, /team add,
the team's group is linked, volunteers /join and are approved). Then every resident runs closed
loops until ``--seconds`` are up: the whole request dialog, the coordinator dispatches, the
resident's volunteer accepts, taps On my way, Done and the hours, the resident rates 5★ and skips
the comment. A loop is complete when the resident sees "Thank you for your feedback!".

Per-update latency: the sandbox's ``created_at`` of each person's action → the bot's first visible
response on the sandbox clock: the callback answer's ``answered_at`` for a tap, the reply's
``date`` for a typed message, a shared contact or a menu button. ``to_next_message`` is the time
from each action to the message the loop waits for next (it goes through the bot's outbox).

    python bench/loop.py [--residents 10] [--seconds 20] [--mode polling|webhook]
                         [--database-url postgresql+asyncpg://...  (an empty database)]
                         [--rate 20  (sustained: actions offered at 20/s overall, not as fast as possible)]

Closed loops (the default) measure throughput: each person acts as soon as the bot answered, so
``updates_per_s`` over the echo floor's (``ratios``) is the bot's share of what the framework alone
could do. ``--rate R`` measures latency at a steady load instead: all loops share one pacer that
lets an action go only every 1/R s (an action waits for its slot; a slot no loop is ready for is
not made up later), so the bot sees about R updates/s whatever its speed; give it enough residents
that one is always ready (``offered_per_s`` says what was reached). Either way ``latency`` has
p50/p99 update→reply for taps (the callback answer) and typed replies separately, and dispatch→card
(the coordinator's tap → the card in the team's group).

Prints exactly one JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ and tests/ are not installed packages
    sys.path.insert(0, str(REPO))

from bench.echo_floor import (  # noqa: E402
    MODES,
    STARTUP_TIMEOUT,
    TOKEN,
    _bot_ready,
    _child_env,
    _stop,
    free_port,
    measure_floor,
    sandbox_process,
    versions,
)
from bot.i18n import I18n  # noqa: E402
from bot.views.common import MENU_NEW_REQUEST, SHARE_PHONE  # noqa: E402
from sandbox import SandboxClient, SimGroup, SimUser  # noqa: E402
from sandbox.client import Tap  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    BUILDING_Q,
    COMMUNITY_Q,
    CONFIRM_TODAY,
    DESCRIBE,
    DETAIL_Q,
    Cast,
    contact_question,
    set_up_centre,
)

LANGUAGE = "en"
TEAM = "维修队"  # the team set_up_centre creates (code "repair")
WEBHOOK_SECRET = "loop-bench-secret_1"
STEP_TIMEOUT = 20.0  # seconds one step of a loop may take before it counts as an error
LOOP_TIMEOUT = 120.0  # hard bound on one whole loop
PACING = {"private_per_second": 50.0, "group_per_minute": 3000, "global_per_second": 500, "poll_interval": 0.05,
          "concurrency": 32}
# Each simulated resident places a request every few seconds, far beyond a person's limits (3 open,
# 2 a minute, 6 an hour): the benchmark measures the bot's own cost, so the limits step aside.
REQUEST_LIMITS = {"open_per_resident": 1000, "per_minute": 1000, "per_hour": 100_000}
STEPS = ("new_request", "category", "description", "community", "building", "detail", "when", "contact",
         "confirm", "dispatch", "accept", "on_way", "done", "hours", "rate", "skip_comment")
TYPED = ("new_request", "description", "community", "building", "detail", "contact")  # the rest are taps
_ = I18n().translator(LANGUAGE)


def log(message: str) -> None:
    print(f"[loop] {message}", file=sys.stderr, flush=True)


class StepError(Exception):
    """A step of a loop went wrong (no response in time, a refusal, an unexpected answer)."""


# -- the sandbox, as the driver sees it -------------------------------------------------------
class BenchClient(SandboxClient):
    """The control client plus the callback answer's ``answered_at``, which ``CallbackAnswer`` drops."""

    async def answer_of(self, query_id: str, *, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        return await self._call("GET", f"/sandbox/callbacks/{query_id}", params={"timeout": timeout},
                                timeout=timeout + 10)


class ChatFeed:
    """Every change in one chat, fetched by a single long-polling task and shared by all waiters
    (many loops wait in the same group; one poller per chat keeps the sandbox's work flat)."""

    def __init__(self, client: SandboxClient, chat_id: int) -> None:
        self.client = client
        self.chat_id = chat_id
        self.events: list[dict[str, Any]] = []
        self.seq = 0
        self.failures = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seq = (await self.client.chat(self.chat_id)).last_seq  # history is not ours to wait for
        self._task = asyncio.create_task(self._poll(), name=f"feed-{self.chat_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll(self) -> None:
        while True:
            try:
                events, _last = await self.client.events(self.chat_id, self.seq, 5.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep polling; waiters time out if it persists
                self.failures += 1
                log(f"feed {self.chat_id}: {type(error).__name__}: {error}")
                await asyncio.sleep(0.1)
                continue
            if events:
                self.events.extend(events)
                self.seq = events[-1]["seq"]
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()

    def mark(self) -> int:
        return len(self.events)

    async def bot_message(self, match: Callable[[str], bool], *, start: int, not_before: float,
                          timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        """The first new bot message from index ``start`` on, dated ``not_before`` or later, whose
        text satisfies ``match`` (its text as it is when fetched)."""
        deadline = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                message = event["message"]
                if (event["kind"] == "message" and message["from_bot"] and message["date"] >= not_before
                        and match(message["text"] or "")):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepError(f"no matching bot message in chat {self.chat_id} within {timeout}s")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)


def contains(needle: str) -> Callable[[str], bool]:
    return lambda text: needle in text


GREETING = contains("This is the community volunteer service.")  # a part of the welcome text (English)


# -- the bot (its own process) ----------------------------------------------------------------
def write_config(path: Path, *, base_url: str, database_url: str, admin: int, coordinators_chat: int,
                 pacing: dict[str, float], concurrency: int | None = None) -> None:
    q = json.dumps  # a JSON string of plain characters is a valid TOML basic string
    lines = [
        f"admins = [{admin}]",
        f"coordinators_chat_id = {coordinators_chat}",
        f"default_language = {q(LANGUAGE)}",
        "",
        "[telegram]",
        f"token = {q(TOKEN)}",
        f"base_url = {q(base_url + '/bot')}",
        f"base_file_url = {q(base_url + '/file/bot')}",
        "",
        "[database]",
        f"url = {q(database_url)}",
        "",
        "[outbox]",
        *(f"{key} = {value}" for key, value in pacing.items()),
        "",
        "[requests]",
        *(f"{key} = {value}" for key, value in REQUEST_LIMITS.items()),
        "",
        *(["[ingest]", f"concurrency = {concurrency}", ""] if concurrency else []),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


@contextlib.asynccontextmanager
async def loop_bot_process(mode: str, config: Path, log_path: Path, sandbox: SandboxClient,
                           profile: Path | None = None) -> AsyncIterator[None]:
    """``python -m bot --config FILE run`` (``--webhook`` for webhook mode), its stdout and stderr
    in ``log_path``; yielded once it polls or its webhook is set. With ``profile`` the bot runs
    under cProfile, which writes its statistics there when the bot exits."""
    command = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []),
               "-m", "bot", "--config", str(config), "run"]
    if mode == "webhook":
        port = free_port()
        command += ["--webhook", "--listen", "127.0.0.1", "--port", str(port),
                    "--url", f"http://127.0.0.1:{port}/telegram", "--secret-token", WEBHOOK_SECRET]
    with log_path.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=_child_env(PTB_TIMEDELTA="1"), stdin=asyncio.subprocess.DEVNULL,
            stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not await _bot_ready(mode, sandbox):
            if process.returncode is not None:
                raise RuntimeError(f"bot exited with {process.returncode} before it was ready: "
                                   f"{log_path.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{mode} bot not ready within {STARTUP_TIMEOUT}s")
            await asyncio.sleep(0.05)
        yield
    finally:
        await _stop(process, "bot")


def bot_log_problems(log_path: Path) -> tuple[dict[str, int], list[str]]:
    """Counts of ERROR and WARNING records and tracebacks in the bot's log, and those lines."""
    counts = {"errors": 0, "warnings": 0, "tracebacks": 0}
    lines = []
    for line in log_path.read_text(errors="replace").splitlines():
        if " ERROR " in line:
            counts["errors"] += 1
        elif " WARNING " in line:
            counts["warnings"] += 1
        elif line.startswith("Traceback"):
            counts["tracebacks"] += 1
        else:
            continue
        lines.append(line)
    return counts, lines


async def outbox_summary(database_url: str) -> dict[str, Any]:
    """What became of the bot's outbox rows, and how long sent rows waited (queued → sent)."""
    from sqlalchemy import func, select

    from storage.db import create_engine
    from storage.models import OutboxMessage

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            counts = dict((await connection.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
            sent = (await connection.execute(select(OutboxMessage.created_at, OutboxMessage.sent_at)
                                             .where(OutboxMessage.status == "sent"))).all()
    finally:
        await engine.dispose()
    waits = [1000 * (s - c).total_seconds() for c, s in sent if c is not None and s is not None]
    p50, p99 = percentiles(waits)
    return {"rows": {str(k): int(v) for k, v in counts.items()}, "queued_to_sent_p50_ms": p50,
            "queued_to_sent_p99_ms": p99}


# -- measuring --------------------------------------------------------------------------------
def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) so far: this driver, its child processes by role, and the whole
    machine (the last two from Linux's /proc; left out elsewhere)."""
    times = {"driver": time.process_time()}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    with contextlib.suppress(OSError, ValueError, IndexError):  # the whole machine, all its cores
        user, nice, system = (int(x) for x in Path("/proc/stat").read_text().split()[1:4])
        times["machine"] = (user + nice + system) / tick
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
                if int(fields[1]) != os.getpid():
                    continue
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                role = "sandbox" if b"sandbox" in command else "bot" if b"bot" in command else None
                if role:
                    times[role] = times.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return times


def percentiles(values_ms: list[float]) -> tuple[float | None, float | None]:
    """p50 and p99 (None without values), rounded to 0.01 ms."""
    ms = sorted(values_ms)
    if not ms:
        return None, None
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) >= 2 else ms[0]
    return round(statistics.median(ms), 2), round(p99, 2)


@dataclass
class Tally:
    """What all loops observed (seconds on the sandbox clock, except the loop durations)."""

    first: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    next_message: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    loops: int = 0
    loop_seconds: list[float] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)  # monotonic, for the timeline
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class World:
    """The people of the run and the feeds of the chats the loops read."""

    coordinator: SimUser
    residents: list[SimUser]
    volunteers: list[SimUser]
    coordinators_group: SimGroup
    team_group: SimGroup
    feeds: dict[int, ChatFeed]
    clients: dict[int, BenchClient]  # the client each person acts through, by user id
    tally: Tally
    pace: Pacer


class Pacer:
    """Lets the loops' actions go at a steady overall rate (``--rate``), or at once without one."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def __call__(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)  # a slot nobody was ready for is gone: no burst to catch up
        self._next = slot + self.interval
        await asyncio.sleep(slot - now)


@dataclass(frozen=True)
class Tapped:
    """A tap's outcome: when it was made, the callback answer, the message it led to (and another)."""

    created_at: float
    answer: dict[str, Any]
    reply: dict[str, Any]
    other: dict[str, Any] | None = None


class Loop:
    """One resident's closed loop with their volunteer (and the shared coordinator)."""

    def __init__(self, world: World, index: int) -> None:
        self.w = world
        self.resident = world.residents[index]
        self.volunteer = world.volunteers[index % len(world.volunteers)]
        self.r_feed = world.feeds[self.resident.id]
        self.v_feed = world.feeds[self.volunteer.id]
        self.c_feed = world.feeds[world.coordinators_group.id]
        self.t_feed = world.feeds[world.team_group.id]
        self.remembered = False  # after the first request the bot offers its address and phone again

    # Every action: note where each feed stands, act, then wait for what the step must produce.
    async def typed(self, step: str, act: Callable[[], Any], feed: ChatFeed, expect: Callable[[str], bool]
                    ) -> dict[str, Any]:
        """A message, a contact or a menu button: its first visible response is the reply."""
        await self.w.pace()
        start = feed.mark()
        result = await act()
        created = result["created_at"]
        reply = await feed.bot_message(expect, start=start, not_before=created)
        self.w.tally.first[step].append(reply["date"] - created)
        self.w.tally.next_message[step].append(reply["date"] - created)
        return reply

    async def tapped(self, step: str, person: SimUser, label: str, *, message: dict[str, Any],
                     feed: ChatFeed, expect: Callable[[str], bool], chat_id: int | None = None,
                     also: tuple[ChatFeed, Callable[[str], bool]] | None = None) -> Tapped:
        """A tap: its first visible response is the callback answer; then the message it leads to
        in ``feed`` (and, with ``also``, a message in a second chat)."""
        await self.w.pace()
        start = feed.mark()
        also_start = also[0].mark() if also else 0
        tap: Tap = await person.tap(label, chat_id=chat_id, message_id=message["message_id"])
        answer = await self.w.clients[person.id].answer_of(tap.callback_query_id)
        if not answer.get("answered"):
            raise StepError(f"{step}: the tap was not answered within {STEP_TIMEOUT}s")
        if answer.get("show_alert"):
            raise StepError(f"{step}: refused with an alert: {answer.get('text')!r}")
        self.w.tally.first[step].append(answer["answered_at"] - tap.created_at)
        reply = await feed.bot_message(expect, start=start, not_before=tap.created_at)
        self.w.tally.next_message[step].append(reply["date"] - tap.created_at)
        other = None
        if also:
            other = await also[0].bot_message(also[1], start=also_start, not_before=tap.created_at)
        return Tapped(tap.created_at, answer, reply, other)

    async def run_once(self) -> None:
        resident, volunteer, coordinator = self.resident, self.volunteer, self.w.coordinator
        r_feed, v_feed = self.r_feed, self.v_feed

        # The resident's request dialog.
        ask = await self.typed("new_request", lambda: resident.press(_(MENU_NEW_REQUEST)), r_feed,
                               contains(_("What kind of help do you need?")))
        await self.tapped("category", resident, _("Repair"), message=ask, feed=r_feed,
                          expect=contains(_(DESCRIBE)))
        if self.remembered:  # the summary follows the description, with last time's address and phone
            summary = await self.typed("description", lambda: resident.send("Kitchen pipe leaks 厨房水管漏水"), r_feed,
                                       contains(resident.phone_number[-4:]))
        else:
            await self.typed("description", lambda: resident.send("Kitchen pipe leaks 厨房水管漏水"), r_feed,
                             contains(_(COMMUNITY_Q)))
            await self.typed("community", lambda: resident.send("阳光小区 Sunshine"), r_feed, contains(_(BUILDING_Q)))
            await self.typed("building", lambda: resident.send("3栋2单元"), r_feed, contains(_(DETAIL_Q)))
            await self.typed("detail", lambda: resident.send("502室 ring twice"), r_feed,
                             contains(contact_question("en")))
            summary = await self.typed("contact", lambda: resident.press(_(SHARE_PHONE)), r_feed,
                                       contains(resident.phone_number[-4:]))
        # Confirm (for today): the answer names the order ("Request #N sent."), the resident gets its
        # number and the coordinators' group the order with a button per team.
        start_c = self.c_feed.mark()
        confirmed = await self.tapped("confirm", resident, _(CONFIRM_TODAY), message=summary, feed=r_feed,
                                      expect=contains("Your request number is #"))
        self.remembered = True
        match = re.search(r"#(\d+)", confirmed.answer.get("text") or "")
        if not match or f"#{match.group(1)}." not in (confirmed.reply["text"] or ""):
            raise StepError(f"confirm: answer {confirmed.answer.get('text')!r} does not match "
                            f"{confirmed.reply['text']!r}")
        number = int(match.group(1))

        # The coordinator dispatches it to the team; the card appears in the team's group.
        headline = _("🆕 New request #{number}", number=number) + "\n"
        new = await self.c_feed.bot_message(lambda text: text.startswith(headline), start=start_c,
                                            not_before=confirmed.created_at)
        card = (await self.tapped("dispatch", coordinator, _("➡️ {team}", team=TEAM), message=new,
                                  chat_id=self.w.coordinators_group.id, feed=self.t_feed,
                                  expect=lambda text: text.startswith(f"#{number} "))).reply

        # The resident's volunteer accepts and gets the details privately; on the way; done.
        details = (await self.tapped("accept", volunteer, _("✋ Accept"), message=card,
                                     chat_id=self.w.team_group.id, feed=v_feed,
                                     expect=contains(f"You took request #{number} ("))).reply
        noted = (await self.tapped(
            "on_way", volunteer, _("🚶 On my way"), message=details, feed=v_feed,
            expect=contains(_("Noted: on your way to request #{number}. Tap Done when finished.",
                              number=number)))).reply
        done = await self.tapped(
            "done", volunteer, _("✔️ Done"), message=noted, feed=v_feed,
            expect=contains(_("Thank you! How many hours did request #{number} take? Tap or type a number.",
                              number=number)),
            also=(r_feed, contains(f"has finished request #{number}. How did it go?")))
        assert done.other is not None

        async def volunteer_hours() -> None:
            await self.tapped("hours", volunteer, "2", message=done.reply, feed=v_feed,
                              expect=contains(_("Recorded {hours} h for request #{number}. Thank you!",
                                                hours=2.0, number=number)))

        async def resident_rates() -> None:
            comment_ask = (await self.tapped(
                "rate", resident, "★★★★★", message=done.other, feed=r_feed,
                expect=contains(_("Thank you! Would you like to add a comment? Type it, or tap Skip.")))).reply
            await self.tapped("skip_comment", resident, _("Skip"), message=comment_ask, feed=r_feed,
                              expect=contains(_("Thank you for your feedback!")))

        await asyncio.gather(volunteer_hours(), resident_rates())

    async def recover(self) -> bool:
        """After a failed loop: /start clears the resident's dialog and shows the menu again."""
        try:
            await self.typed("recover", lambda: self.resident.send("/start"), self.r_feed, GREETING)
            return True
        except Exception as error:  # noqa: BLE001
            log(f"resident {self.resident.first_name} could not recover: {type(error).__name__}: {error}")
            return False

    async def run(self, deadline: float) -> None:
        tally = self.w.tally
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                async with asyncio.timeout(LOOP_TIMEOUT):
                    await self.run_once()
            except Exception as error:  # noqa: BLE001 - a bench counts failures instead of dying
                tally.errors += 1
                tally.error_kinds[type(error).__name__] += 1
                log(f"resident {self.resident.first_name}: loop failed: {type(error).__name__}: {error}")
                if not await self.recover():
                    return
                continue
            tally.loops += 1
            tally.loop_seconds.append(time.monotonic() - began)
            tally.finished_at.append(time.monotonic())


# -- the run ----------------------------------------------------------------------------------
async def measure_loop(mode: str, seconds: float, residents: int, volunteers: int, pacing: dict[str, float],
                       database_url: str | None, bot_log: Path | None, profile_bot: Path | None = None,
                       rate: float | None = None, concurrency: int | None = None) -> dict[str, Any]:
    """Fresh sandbox, database and bot; set the centre up through the bot; run the closed loops."""
    with tempfile.TemporaryDirectory(prefix="loop-bench-") as tmp:
        workdir = Path(tmp)
        db_url = database_url or f"sqlite+aiosqlite:///{workdir / 'loop.sqlite3'}"
        log_path = bot_log or workdir / "bot.log"
        try:
            world, elapsed, began, cpu, webhook, feed_failures = await _run_loops(
                mode, seconds, residents, volunteers, pacing, db_url, log_path, workdir, profile_bot, rate,
                concurrency)
        except BaseException:
            if log_path.exists():  # the temp dir goes with the exception: show the bot's last words
                for line in log_path.read_text(errors="replace").splitlines()[-30:]:
                    log(f"bot: {line}")
            raise
        # The bot and the sandbox are stopped here; the database and the log are final.
        result = summarise(world.tally, elapsed, began)
        if webhook is not None:
            result["webhook_failures"] = webhook["failures"]
        result["feed_failures"] = feed_failures
        # Busy cores while the loops ran, per process and for the whole machine (two cores on the
        # standard machine): "machine" well above the sum of the three shows other load beside us.
        result["cpu_share"] = {role: round((cpu[1][role] - cpu[0][role]) / elapsed, 2)
                               for role in ("bot", "sandbox", "driver", "machine")
                               if role in cpu[0] and role in cpu[1]}
        try:
            outbox = await outbox_summary(db_url)
        except Exception as error:  # noqa: BLE001 - a summary, not the measurement
            outbox = {"error": f"{type(error).__name__}: {error}"}
        counts, lines = bot_log_problems(log_path)
        for line in lines[:40]:
            log(f"bot: {line}")
        if counts["errors"] or counts["tracebacks"]:
            log(f"bot log had {counts}; full log: "
                f"{log_path if bot_log else '(deleted with the temp dir; pass --bot-log FILE to keep it)'}")
    log(f"{mode}: {result}")
    return {"loop": result, "outbox": outbox, "bot_log": counts, "database": db_url.split("+")[0].split(":")[0]}


async def _run_loops(mode: str, seconds: float, residents: int, volunteers: int, pacing: dict[str, float],
                     db_url: str, log_path: Path, workdir: Path, profile_bot: Path | None, rate: float | None,
                     concurrency: int | None) -> tuple[World, float, float, tuple[dict[str, float], dict[str, float]],
                                dict[str, Any] | None, int]:
    """The sandbox and the bot up, the centre set up, the loops run; both processes stopped again."""
    async with sandbox_process() as base_url, contextlib.AsyncExitStack() as stack:
        control = await stack.enter_async_context(BenchClient(base_url))

        async def client() -> BenchClient:  # one small pool per person, as the floor does
            return await stack.enter_async_context(BenchClient(base_url))

        admin = await control.create_user("Admin", language_code=LANGUAGE)
        coordinator = await (await client()).create_user("Coco", language_code=LANGUAGE)
        people_r = [await (await client()).create_user(f"Res{i}", language_code=LANGUAGE,
                                                       phone_number=f"+861380000{i:04d}")
                    for i in range(residents)]
        people_v = [await (await client()).create_user(f"Vol{i}", language_code=LANGUAGE)
                    for i in range(volunteers)]
        coordinators_group = await control.create_group("Centre", creator=admin, members=[coordinator])
        team_group = await control.create_group("Repair team", creator=coordinator, members=people_v)
        config = workdir / "config.toml"
        write_config(config, base_url=base_url, database_url=db_url, admin=admin.id,
                     coordinators_chat=coordinators_group.id, pacing=pacing, concurrency=concurrency)
        await stack.enter_async_context(loop_bot_process(mode, config, log_path, control, profile_bot))
        log(f"{mode}: bot up on {db_url.split(':')[0]}; setting up the centre with {volunteers} volunteers")

        set_up_began = time.monotonic()
        cast = Cast(control, admin, coordinator, people_r[0], people_v, coordinators_group, team_group)
        await set_up_centre(cast, LANGUAGE)  # admin → coordinator, /team add, /link, /join + approve
        feeds: dict[int, ChatFeed] = {}
        try:
            for chat_id in [p.id for p in people_r + people_v] + [coordinators_group.id, team_group.id]:
                feeds[chat_id] = ChatFeed(await client(), chat_id)
                await feeds[chat_id].start()
            world = World(coordinator, people_r, people_v, coordinators_group, team_group, feeds,
                          {p.id: p.sandbox for p in [coordinator, *people_r, *people_v]},  # type: ignore[misc]
                          Tally(), Pacer(None))
            loops = [Loop(world, i) for i in range(residents)]
            await asyncio.gather(*(lp.typed("start", lp.resident.start, lp.r_feed, GREETING) for lp in loops))
            log(f"{mode}: set up in {time.monotonic() - set_up_began:.1f}s; {residents} residents loop "
                f"for {seconds}s")
            world.tally = Tally()  # the set-up's /start replies are not part of the measurement
            world.pace = Pacer(rate)
            cpu_before = cpu_seconds()
            began = time.monotonic()
            deadline = began + seconds
            async with asyncio.timeout(seconds + LOOP_TIMEOUT + 30):  # hard bound even if something hangs
                await asyncio.gather(*(lp.run(deadline) for lp in loops))
            elapsed = time.monotonic() - began
            cpu_after = cpu_seconds()
        finally:
            for feed in feeds.values():
                await feed.stop()
        webhook = (await control.webhook_stats()) if mode == "webhook" else None
    return world, elapsed, began, (cpu_before, cpu_after), webhook, sum(f.failures for f in feeds.values())


def summarise(tally: Tally, elapsed: float, began: float) -> dict[str, Any]:
    first = [1000 * x for step in STEPS for x in tally.first[step]]
    taps = [1000 * x for step in STEPS if step not in TYPED for x in tally.first[step]]
    typed = [1000 * x for step in TYPED for x in tally.first[step]]
    following = [1000 * x for step in STEPS for x in tally.next_message[step]]
    buckets = max(1, int(-(-elapsed // 5)))  # the last one holds the loops finishing after the deadline
    timeline = [0] * buckets
    for at in tally.finished_at:
        timeline[min(buckets - 1, int((at - began) // 5))] += 1
    loop_p50 = round(statistics.median(tally.loop_seconds), 3) if tally.loop_seconds else None
    p50, p99 = percentiles(first)
    next_p50, next_p99 = percentiles(following)
    actions = sum(len(values) for values in tally.first.values())
    return {
        "loops": tally.loops,
        "loops_per_s": round(tally.loops / elapsed, 2) if elapsed > 0 else 0.0,
        "loop_p50_s": loop_p50,
        "updates": len(first),
        "updates_per_s": round(len(first) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": p50,
        "p99_ms": p99,
        "by_kind_p50_p99_ms": {"tap": list(percentiles(taps)), "typed": list(percentiles(typed))},
        "dispatch_to_card_p50_p99_ms": list(percentiles([1000 * x for x in tally.next_message["dispatch"]])),
        "offered_per_s": round(actions / elapsed, 1) if elapsed > 0 else 0.0,
        "to_next_message_p50_ms": next_p50,
        "to_next_message_p99_ms": next_p99,
        "errors": tally.errors,
        **({"error_kinds": dict(tally.error_kinds)} if tally.error_kinds else {}),
        "elapsed_s": round(elapsed, 3),
        "loops_per_5s": timeline,
        "by_step_p50_ms": {step: [round(1000 * statistics.median(tally.first[step]), 1) if tally.first[step] else None,
                                  round(1000 * statistics.median(tally.next_message[step]), 1)
                                  if tally.next_message[step] else None]
                           for step in STEPS},
    }


# -- command line -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=10)
    parser.add_argument("--volunteers", type=int, default=None, help="default: one per resident")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time of the loops")
    parser.add_argument("--mode", choices=MODES, default="polling")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    parser.add_argument("--rate", type=float, default=None,
                        help="sustained mode: actions offered at this many per second overall (default: closed "
                             "loops, as fast as the bot answers)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="[ingest] concurrency in the bot's config (default: the bot's default)")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="echo floor measuring time (0: skip)")
    parser.add_argument("--floor-users", type=int, default=50)
    parser.add_argument("--bot-log", type=Path, help="keep the bot's stdout and stderr in this file")
    parser.add_argument("--profile-bot", type=Path, help="run the bot under cProfile, statistics to this file "
                                                         "(slows the bot: not for the numbers)")
    for key, value in PACING.items():
        flag = "sender-concurrency" if key == "concurrency" else key.replace("_", "-")  # --concurrency: [ingest]
        parser.add_argument(f"--{flag}", type=type(value), default=value, dest=f"outbox_{key}",
                            help=f"[outbox] {key} in the bot's config (default {value})")
    args = parser.parse_args(argv)
    if args.residents < 1 or (args.volunteers is not None and args.volunteers < 1):
        parser.error("need at least one resident and one volunteer")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def latency_goals(loop: dict[str, Any]) -> dict[str, Any]:
    """The issue's latency figures in one place: p50/p99 update→reply for taps and typed replies,
    and dispatch→card."""
    return {"tap_p50_p99_ms": loop["by_kind_p50_p99_ms"]["tap"],
            "typed_p50_p99_ms": loop["by_kind_p50_p99_ms"]["typed"],
            "dispatch_to_card_p50_p99_ms": loop["dispatch_to_card_p50_p99_ms"],
            "offered_per_s": loop["offered_per_s"]}


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else value


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):  # SIGTERM unwinds the finally blocks too
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    volunteers = args.volunteers or args.residents
    pacing = {key: getattr(args, f"outbox_{key}") for key in PACING}
    floor = None
    if args.floor_seconds > 0:
        floor = (await measure_floor(args.floor_seconds, args.floor_users, (args.mode,)))[args.mode]
    loop = await measure_loop(args.mode, args.seconds, args.residents, volunteers, pacing, args.database_url,
                              args.bot_log, args.profile_bot, args.rate, args.concurrency)
    result: dict[str, Any] = {
        "bench": "loop", "mode": args.mode, "database": loop["database"], "residents": args.residents,
        "volunteers": volunteers, "seconds": _number(args.seconds),
        **({"rate": _number(args.rate)} if args.rate else {}),
        **({"concurrency": args.concurrency} if args.concurrency else {}),
        "latency": latency_goals(loop["loop"]),
        "outbox_pacing": {**pacing, "note": "generous: sandbox flood limits are off; Telegram's real limits "
                                            "would cap throughput, this measures the bot's own cost"},
        "loop": loop["loop"], "outbox": loop["outbox"], "bot_log": loop["bot_log"],
    }
    if floor is not None:
        lp, fp = loop["loop"]["p50_ms"], floor["p50_ms"]
        result["floor"] = {"seconds": _number(args.floor_seconds), "users": args.floor_users, **floor}
        result["ratios"] = {
            "p50_vs_floor": round(lp / fp, 2) if lp and fp else None,
            "updates_per_s_vs_floor": round(loop["loop"]["updates_per_s"] / floor["updates_per_s"], 3)
            if floor["updates_per_s"] else None,
        }
    return {**result, **versions()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        result = asyncio.run(_main(args))
    except (asyncio.CancelledError, KeyboardInterrupt):  # subprocesses are already stopped
        log("interrupted; no result")
        sys.exit(143)
    print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
