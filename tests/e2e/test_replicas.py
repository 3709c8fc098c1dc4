"""Two webhook replicas of the bot on one database behind a round-robin proxy (issue 16 point 5):
updates alternate between them, the loop is correct, every escalation fires once, and the outbox's
pacing is shared through the database, so bursts from both together stay within the sandbox's
limits (zero 429s, zero sends inside a retry window). The replicas are two applications in this
process (separate engines, senders and schedulers: they share only the database); bench/replicas.py
runs them as processes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from sqlalchemy import select

from bot.adapters.app import BotApplication, build_application
from bot.adapters.runner import running
from bot.cli import migrate
from bot.settings import OutboxSettings, Settings, WebhookSettings
from sandbox import FloodLimits, SandboxServer
from sandbox.proxy import RoundRobinProxy
from storage.models import OutboxMessage, ScheduledItem
from tests.e2e.harness import (
    WEBHOOK_SECRET,
    Cast,
    JumpClock,
    accepted_order,
    cast_of,
    finish_and_rate,
    outbox_drained,
    place_order,
    set_up_centre,
    tr,
    wait_text,
)
from tests.sandbox.tinybot import free_port

LANGUAGE = "en"
TEAM = "维修队"
# Telegram's limits scaled so a test's bursts are short; a private chat gets no burst at all, so two
# senders that did not share their pacing would be refused (so would they at 2 × 40 messages a second).
FLOOD = FloodLimits(private_per_second=5, private_burst=1, group_per_minute=60, global_per_second=40)
OUTBOX = OutboxSettings(private_per_second=5, group_per_minute=60, group_burst=3, global_per_second=40,
                        poll_interval=0.1)
CROWD = 40  # people who start the bot at once: their greetings go out from both replicas


@contextlib.asynccontextmanager
async def replicas(server: SandboxServer, settings: Settings, clock: JumpClock,
                   count: int = 2) -> AsyncIterator[list[BotApplication]]:
    """``count`` webhook replicas (instance ``replica-N``) behind a round-robin proxy that the
    sandbox's webhook points at."""
    await migrate(settings)
    ports = [free_port() for _ in range(count)]
    async with RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports]) as proxy, \
            contextlib.AsyncExitStack() as stack:
        applications = []
        for index, port in enumerate(ports, start=1):
            replica = settings.model_copy(update={"outbox": OUTBOX.model_copy(update={"instance": f"replica-{index}"})})
            application = build_application(replica, clock=clock)
            hook = WebhookSettings(listen="127.0.0.1", port=port, url=f"{proxy.url}/telegram",
                                   secret_token=WEBHOOK_SECRET)
            await stack.enter_async_context(running(application, webhook=hook))
            applications.append(application)
        yield applications
        assert all(proxy.served[backend] > 0 for backend in proxy.backends), proxy.served


async def test_two_replicas_run_the_loop_fire_each_escalation_once_and_share_telegrams_limits(
        database_url: str) -> None:
    _ = tr(LANGUAGE)
    clock = JumpClock()
    async with SandboxServer(flood_limits=FLOOD, webhook_retry_delay=0.05) as server, server.client() as sandbox:
        cast = await cast_of(sandbox, LANGUAGE)
        settings = Settings(
            telegram={"token": server.token, "base_url": server.bot_api_url, "base_file_url": server.file_url},
            database={"url": database_url}, admins=[cast.admin.id], coordinators_chat_id=cast.coordinators_group.id,
            default_language=LANGUAGE, outbox=OUTBOX, reminders={"sweep_seconds": 0.1})
        async with replicas(server, settings, clock) as (first, second):
            await set_up_centre(cast, LANGUAGE)
            # An order through the whole loop; the updates alternate between the replicas.
            number, volunteer, details = await accepted_order(cast, LANGUAGE)
            await finish_and_rate(cast, LANGUAGE, volunteer, details, number, verdict=_("😊 Satisfied"))
            await wait_text(cast.resident, _("Thank you! Would you like to add a comment? Type it, or tap Skip."))
            await cast.resident.tap(_("Skip"))
            await wait_text(cast.resident, _("Thank you for your feedback!"))
            # Two orders dispatched and left waiting: half an hour later each is bumped once,
            # though both replicas sweep the schedule every 0.1 s.
            others = [await sandbox.create_user(name, language_code="en", phone_number=f"+86138000000{n}")
                      for n, name in enumerate(("Rose", "Ruth"), start=2)]
            waiting = [await _dispatched(replace(cast, resident=other)) for other in others]
            # Everything sent before the clock jumps: the shared windows are on the bots' clock, and a
            # message still queued would find its person's window half an hour old (real time never jumps).
            await outbox_drained(first, timeout=20)
            clock.advance(30 * 60 + 1)
            for number in waiting:
                await wait_text(cast.volunteers[0], f"⏫ Request #{number}", chat_id=cast.team_group.id)
            crowd = [await sandbox.create_user(f"Guest {n}", language_code="en") for n in range(CROWD)]
            await asyncio.gather(sandbox.act(*({"type": "start", "user_id": p.id} for p in crowd)),
                                 _burst(first, second, cast.team_group.id, cast.resident.id))
            await outbox_drained(first, timeout=20)
            deps = first.bot_data.deps
            assert deps is not None
            async with deps.uow() as uow:
                fired = (await uow.session.execute(
                    select(ScheduledItem.order_id, ScheduledItem.state).where(ScheduledItem.kind == "escalate",
                                                                              ScheduledItem.step == 1))).all()
                senders = set((await uow.session.scalars(select(OutboxMessage.claimed_by))).all())
        bumps = [c for c in await sandbox.calls("sendMessage")
                 if c["params"].get("text", "").startswith("⏫ Request #")]
        assert sorted(int(c["params"]["text"].split("#")[1].split(" ")[0]) for c in bumps) == sorted(waiting)
        assert sorted(order for order, state in fired if state == "done") == sorted(waiting)
        assert {claimant.split("#")[0] for claimant in senders if claimant} == {"replica-1", "replica-2"}
        calls = await sandbox.calls()
        refused = [c for c in calls if c["status"] == 429]
        assert refused == [], [(c["seq"], c["time"], c["method"], c["status"]) for c in calls
                               if c["chat_id"] in {r["chat_id"] for r in refused}]
        assert await sandbox.flood_violations() == []


async def _dispatched(cast: Cast) -> int:
    """A new order dispatched to the team, nobody accepting it: its number."""
    _ = tr(LANGUAGE)
    number = await place_order(cast, LANGUAGE)
    await wait_text(cast.coordinator, _("🆕 New request #{number}", number=number), chat_id=cast.coordinators_group.id)
    await cast.coordinator.tap_and_read_answer(_("➡️ {team}", team=TEAM), chat_id=cast.coordinators_group.id)
    await wait_text(cast.volunteers[0], f"#{number}", chat_id=cast.team_group.id)
    return number


async def _burst(first: BotApplication, second: BotApplication, group: int, person: int) -> None:
    """Rows queued through both replicas at once, a burst to the group and one to a person; both
    senders are told and go for them."""
    async def queue(application: BotApplication, offset: int) -> None:
        deps = application.bot_data.deps
        assert deps is not None and deps.sender is not None
        async with deps.uow() as uow:
            for n in range(2):
                await uow.outbox.send(group, {"text": f"burst {offset + n}"})
            for n in range(5):
                await uow.outbox.send(person, {"text": f"note {offset + n}"})
            await uow.commit()
        deps.sender.kick()
    await asyncio.gather(queue(first, 0), queue(second, 100))
