"""Two webhook replicas of the bot on one PostgreSQL database behind a round-robin proxy, with the
sandbox's flood limits ON (Telegram's own limits): is the loop correct, does every reminder fire
once, and do the two keep Telegram's limits *together* while using the allowance?

One process holds the sandbox (so its recorded calls, 429s and flood violations can be read), the
proxy (``sandbox.proxy.RoundRobinProxy``: the sandbox's setWebhook points at it) and the driver;
the replicas are ``python -m bot --config FILE run --webhook`` subprocesses (``[outbox] instance``
``replica-1`` and ``replica-2``), on the machine's clock, with ``[reminders] escalation_minutes =
[1, 2, 3]`` so escalations fall due within the run. Phases:

1. loop: ``--waiting`` orders are placed and dispatched and left waiting (their escalation steps
   fall due one, two and three minutes later), then ``--orders`` orders go through the whole loop
   (order, dispatch, accept, on the way, done, hours, rating), each by a resident of its own, at
   most ``--concurrency`` at a time; each waiting order is accepted once its last step (the
   centre's alert) was seen. A loop order whose card waits in the team's group's queue for longer
   than a minute falls due for escalation too, and is checked the same way.
2. bursts, at once: ``--group-burst`` messages to one group, and ``--per-person`` messages to each
   of ``--people`` people, queued in the database (both replicas' senders find them).

It checks and prints (one JSON line on stdout; progress on stderr): every escalation step that
fell due fired once (the schedule's rows against the bumps and the centre's alerts the sandbox
recorded, order by order), zero 429s, zero sends inside a retry window, both replicas handled
updates and sent messages, each group's rate during the loop and the achieved rate in each burst
over the allowance (the baseline: Telegram's limit itself).

    python bench/replicas.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/NAME
        [--orders 10] [--waiting 4] [--concurrency 6] [--group-burst 45] [--group-window 120]
        [--people 100] [--per-person 3] [--global-window 8]

The database is emptied first (its ``public`` schema is dropped and migrated again): give it one
of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: bench/ and tests/ are not installed packages
    sys.path.insert(0, str(REPO))

from sqlalchemy import select, text  # noqa: E402

from bench.echo_floor import _child_env, _stop, free_port  # noqa: E402
from sandbox import FloodLimits, SandboxClient, SandboxServer, SimUser  # noqa: E402
from sandbox.botapi import RATE_LIMITED  # noqa: E402
from sandbox.proxy import RoundRobinProxy  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxMessage, ScheduledItem  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    Cast,
    cast_of,
    finish_and_rate,
    join_team,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)

LANGUAGE = "en"
TEAM = "维修队"
SECRET = "replicas-bench-secret_1"
STARTUP_TIMEOUT = 30.0
STEP_TIMEOUT = 900.0  # a step of the loop waits behind every queued message of its group (20 a minute)
GROUP_PER_MINUTE = 20
GLOBAL_PER_SECOND = 30
_ = tr(LANGUAGE)


def log(message: str) -> None:
    print(f"[replicas] {message}", file=sys.stderr, flush=True)


def write_config(path: Path, server: SandboxServer, database_url: str, cast: Cast, instance: str) -> None:
    q = json.dumps  # a JSON string of plain characters is a valid TOML basic string
    path.write_text("\n".join([
        f"admins = [{cast.admin.id}]",
        f"coordinators_chat_id = {cast.coordinators_group.id}",
        f"default_language = {q(LANGUAGE)}",
        "[telegram]", f"token = {q(server.token)}", f"base_url = {q(server.bot_api_url)}",
        f"base_file_url = {q(server.file_url)}",
        "[database]", f"url = {q(database_url)}",
        "[outbox]", f"instance = {q(instance)}", 'pacing = "database"',
        "[reminders]", "sweep_seconds = 1", "escalation_minutes = [1, 2, 3]",
        "[requests]", "open_per_resident = 100", "per_minute = 100", "per_hour = 1000",
    ]) + "\n", encoding="utf-8")


@contextlib.asynccontextmanager
async def replica(config: Path, port: int, proxy: RoundRobinProxy, log_path: Path) -> AsyncIterator[None]:
    """``python -m bot --config FILE run --webhook`` on ``port``, its webhook URL the proxy's."""
    command = [sys.executable, "-m", "bot", "--config", str(config), "run", "--webhook", "--listen", "127.0.0.1",
               "--port", str(port), "--url", f"{proxy.url}/telegram", "--secret-token", SECRET]
    with log_path.open("wb") as output:
        process = await asyncio.create_subprocess_exec(*command, cwd=REPO, env=_child_env(PTB_TIMEDELTA="1"),
                                                       stdin=asyncio.subprocess.DEVNULL, stdout=output,
                                                       stderr=output)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:  # up once it answers on its port (any status: the proxy only needs it to listen)
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"replica did not start: {log_path.read_text(errors='replace')[-2000:]}")
            await asyncio.sleep(0.1)
        yield
    finally:
        await _stop(process, "replica")


async def dispatched(cast: Cast) -> tuple[int, int]:
    """A new order placed and dispatched to the team: its number and its card's message id."""
    number = await place_order(cast, LANGUAGE)
    new = await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number),
                          chat_id=cast.coordinators_group.id, timeout=STEP_TIMEOUT)
    await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id,
                                               message_id=new.message_id)
    card = await wait_text(cast.volunteers[0], f"#{number} ", chat_id=cast.team_group.id, timeout=STEP_TIMEOUT)
    return number, card.message_id


async def whole_loop(cast: Cast, volunteer: SimUser) -> int:
    """One order through the loop, taken by ``volunteer``, who has no other order under way (their
    taps find the newest message with a button, as a person's thumb would)."""
    number, card = await dispatched(cast)
    await volunteer.tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card)
    details = await wait_text(volunteer, f"You took request #{number} (", timeout=STEP_TIMEOUT)
    await finish_and_rate(cast, LANGUAGE, volunteer, details, number, verdict=_("😊 Satisfied"))
    await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."),
                    timeout=STEP_TIMEOUT)
    await cast.resident.tap(_("Skip"))
    await wait_text(cast.resident, _("Thank you for your feedback!"), timeout=STEP_TIMEOUT)
    return number


async def escalated_then_taken(cast: Cast, number: int, card: int) -> None:
    """A waiting order: bumped in the team's group (step 1), the centre alerted (step 3), then taken."""
    await wait_text(cast.volunteers[0], f"⏫ Request #{number} ", chat_id=cast.team_group.id, timeout=STEP_TIMEOUT)
    await wait_text(cast.coordinator, f"⚠️ Request #{number} (", chat_id=cast.coordinators_group.id,
                    timeout=STEP_TIMEOUT)
    await cast.volunteers[0].tap_and_read_answer(_("✋ Accept"), chat_id=cast.team_group.id, message_id=card)


async def resident(sandbox: SandboxClient, n: int) -> SimUser:
    return await sandbox.create_user(f"Res{n}", language_code=LANGUAGE, phone_number=f"+86139{n:08d}")


async def queue_bursts(sessions: Any, group: int, people: list[int], args: argparse.Namespace) -> None:
    async with UnitOfWork(sessions) as uow:
        for n in range(max(args.group_burst, args.per_person)):
            if n < args.group_burst:
                await uow.outbox.send(group, {"text": f"group burst {n}"})
            if n < args.per_person:
                for chat in people:
                    await uow.outbox.send(chat, {"text": f"private burst {n}"})
        await uow.commit()


async def drained(sessions: Any, timeout: float) -> None:
    """Wait until no outbox row is pending or being sent (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with UnitOfWork(sessions).reading() as uow:
            if await uow.outbox.pending_count() == 0:
                return
        await asyncio.sleep(0.5)
    log(f"the outbox did not drain within {timeout:.0f} s")


def sent_per_order(calls: list[Any], prefix: str) -> Counter[str]:
    """How many delivered messages beginning with ``prefix`` (then the order's number) each order had."""
    return Counter(str(c.params.get("text", ""))[len(prefix):].split(" ")[0] for c in calls
                   if c.method.lower() == "sendmessage" and c.status == 200
                   and str(c.params.get("text", "")).startswith(prefix))


def group_rate(calls: list[Any], chat_id: int) -> dict[str, Any]:
    """A group's delivered messages (sent or edited) per minute over the loop, against its allowance."""
    times = sorted(c.time for c in calls
                   if c.chat_id == chat_id and c.status == 200 and c.method.lower() in RATE_LIMITED)
    minutes = (times[-1] - times[0]) / 60.0 if len(times) > 1 else 0.0
    per_minute = len(times) / minutes if minutes else 0.0
    return {"messages": len(times), "minutes": round(minutes, 1), "per_minute": round(per_minute, 2),
            "rate_vs_allowance": round(per_minute / GROUP_PER_MINUTE, 3)}


def achieved(times: list[float], window: float, allowance: float) -> dict[str, Any]:
    """Messages delivered in ``window`` seconds from the first call, over the allowance."""
    if not times:
        return {"delivered_in_window": 0, "allowance_in_window": allowance, "rate_vs_allowance": 0.0}
    first = min(times)
    inside = sum(1 for t in times if t < first + window)
    return {"delivered_in_window": inside, "allowance_in_window": allowance,
            "rate_vs_allowance": round(inside / allowance, 3), "seconds": round(max(times) - first, 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    engine = create_engine(args.database_url)
    async with engine.begin() as connection:  # the bench's own database: emptied, then migrated
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    sessions = session_factory(engine)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="replicas-bench-") as tmp:
        workdir = Path(tmp)
        async with SandboxServer(flood_limits=FloodLimits(), webhook_retry_delay=0.2) as server, \
                server.client() as sandbox, contextlib.AsyncExitStack() as stack:
            cast = await cast_of(sandbox, LANGUAGE)
            extra = [await sandbox.create_user(f"Vol{n}", language_code=LANGUAGE)
                     for n in range(len(cast.volunteers), args.concurrency + 1)]
            for person in extra:  # one volunteer per loop under way, and one for the waiting orders
                await cast.team_group.join(person)
            ports = [free_port(), free_port()]
            proxy = await stack.enter_async_context(RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports]))
            for index, port in enumerate(ports, start=1):
                config = workdir / f"replica-{index}.toml"
                write_config(config, server, args.database_url, cast, f"replica-{index}")
                await stack.enter_async_context(replica(config, port, proxy, workdir / f"replica-{index}.log"))
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while server.feed.webhook is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            log("two replicas up behind the proxy; setting up the centre")
            await set_up_centre(cast, LANGUAGE)
            for person in extra:  # one at a time: each application and approval is a message in the centre's group
                await join_team(cast, person, LANGUAGE)
            cast = replace(cast, volunteers=[*cast.volunteers, *extra])

            log(f"loop: {args.waiting} orders left waiting for their escalation, {args.orders} whole loops")
            residents = [await resident(sandbox, n) for n in range(args.waiting + args.orders)]
            waiting = [await dispatched(replace(cast, resident=r)) for r in residents[:args.waiting]]
            loop_began, loop_calls_from = time.monotonic(), len(server.calls)
            free: asyncio.Queue[SimUser] = asyncio.Queue()
            for volunteer in cast.volunteers[1:]:
                free.put_nowait(volunteer)
            finished: list[int] = []

            async def gated(person: SimUser) -> int:
                volunteer = await free.get()
                try:
                    number = await whole_loop(replace(cast, resident=person), volunteer)
                finally:
                    free.put_nowait(volunteer)
                finished.append(number)
                if len(finished) % 10 == 0:
                    log(f"{len(finished)} whole loops done, {time.monotonic() - began:.0f} s")
                return number

            loops, _taken = await asyncio.gather(
                asyncio.gather(*(gated(r) for r in residents[args.waiting:])),
                asyncio.gather(*(escalated_then_taken(cast, number, card) for number, card in waiting)))
            loop_seconds = time.monotonic() - loop_began
            loop_calls = server.calls[loop_calls_from:]
            groups_in_loop = {name: group_rate(loop_calls, chat.id) for name, chat in
                              (("centre", cast.coordinators_group), ("team", cast.team_group))}

            log(f"bursts: {args.group_burst} to one group, {args.per_person} each to {args.people} people")
            burst_group = server.people.create_group("Burst group", creator=cast.admin.id)
            server.people.add_bot(burst_group.id, cast.admin.id)
            people = []
            for n in range(args.people):
                person = server.people.create_user(f"P{n}")
                server.people.start(person.id)  # they started the bot: the replicas greet them first
                people.append(int(person.id))
            greeted_by = time.monotonic() + 120
            while time.monotonic() < greeted_by and len({c.chat_id for c in server.calls if c.status == 200
                                                        and c.chat_id in set(people)}) < len(people):
                await asyncio.sleep(0.5)
            await drained(sessions, 120.0)
            calls_before = len(server.calls)
            await queue_bursts(sessions, int(burst_group.id), people, args)
            await drained(sessions, args.group_window + 120)
            calls = [c for c in server.calls[calls_before:] if c.method.lower() == "sendmessage"]
            group_times = [c.time for c in calls if c.chat_id == burst_group.id and c.status == 200]
            private_times = [c.time for c in calls if c.chat_id in set(people) and c.status == 200]
            all_calls = list(server.calls)
            violations = len(server.flood.violations)
            served = dict(proxy.served)
        logs = "\n".join((workdir / f"replica-{n}.log").read_text(errors="replace") for n in (1, 2))
        async with UnitOfWork(sessions).reading() as uow:
            steps = (await uow.session.execute(
                select(ScheduledItem.order_id, ScheduledItem.step, ScheduledItem.state)
                .where(ScheduledItem.kind == "escalate"))).all()
            claimants = Counter(c.split("#")[0] for c in (await uow.session.scalars(
                select(OutboxMessage.claimed_by).where(OutboxMessage.status == "sent"))).all() if c)
    await engine.dispose()
    bumps, alerts = sent_per_order(all_calls, "⏫ Request #"), sent_per_order(all_calls, "⚠️ Request #")
    fired = {step: Counter(str(order) for order, s, state in steps if s == step and state == "done")
             for step in (1, 2, 3)}
    waited = {str(number) for number, _card in waiting}
    result = {
        "bench": "replicas", "replicas": 2, "orders_whole_loop": len(loops), "orders_left_waiting": len(waiting),
        "loop_seconds": round(loop_seconds, 1),
        "groups_during_loop": groups_in_loop,
        "reminders": {"escalation_rows_fired": sum(1 for *_, state in steps if state == "done"),
                      "rows_fired_by_step": {step: sum(c.values()) for step, c in fired.items()},
                      "orders_escalated": len(fired[1]), "bumps_sent": sum(bumps.values()),
                      "centre_alerts_sent": sum(alerts.values()),
                      "each_fired_once": fired[1] == bumps and fired[3] == alerts
                      and all(v == 1 for c in (bumps, alerts) for v in c.values())
                      and waited <= set(bumps) and waited <= set(alerts)},
        "http_429": sum(1 for c in all_calls if c.status == 429), "flood_violations": violations,
        "updates_per_replica": sorted(served.values()), "sent_per_replica": sorted(claimants.values()),
        "group_burst": {"messages": args.group_burst, **achieved(
            group_times, args.group_window, GROUP_PER_MINUTE * args.group_window / 60.0)},
        "private_burst": {"messages": args.people * args.per_person, "people": args.people, **achieved(
            private_times, args.global_window, GLOBAL_PER_SECOND * args.global_window)},
        "replica_logs": {"errors": logs.count(" ERROR "), "tracebacks": logs.count("Traceback"),
                         "deadlocks_40P01": logs.count("40P01") + logs.lower().count("deadlock detected")},
        "wall_seconds": round(time.monotonic() - began, 1),
    }
    log(json.dumps(result))
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of the bench's own (emptied)")
    parser.add_argument("--orders", type=int, default=10, help="orders through the whole loop")
    parser.add_argument("--waiting", type=int, default=4, help="orders left waiting until their escalation")
    parser.add_argument("--concurrency", type=int, default=6, help="whole loops under way at once")
    parser.add_argument("--group-burst", type=int, default=45)
    parser.add_argument("--group-window", type=float, default=120.0, help="seconds measured from the first call")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--per-person", type=int, default=3)
    parser.add_argument("--global-window", type=float, default=8.0, help="seconds measured from the first call")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(parse()))), flush=True)
