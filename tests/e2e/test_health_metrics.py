"""The health endpoint beside the running bot (bot.adapters.health), scraped during a piece of the
loop: /healthz answers, /readyz reports the database, the last poll or webhook request, the outbox
backlog and the schedule rows due, and /metrics' counters move as updates are handled, messages
sent and reminders fire. Without its database the bot is alive but not ready (503)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import ConfigError
from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import bot_running, cast_of, make_settings, outbox_drained, place_order, wait_text
from tests.sandbox.tinybot import free_port
from tests.support.clocks import JumpClock
from tests.support.dboutage import database_outage

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    """Every sample /metrics serves, by name and labels."""
    answer = await http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet (a label not seen so far)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def health_settings(port: int) -> dict[str, Any]:
    return {"listen": "127.0.0.1", "port": port}


async def ready_again(http: httpx.AsyncClient, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = await http.get("/readyz")
        if answer.status_code == 200 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.json()
            return dict(answer.json())
        await asyncio.sleep(0.05)


async def test_health_and_metrics_follow_a_request_by_polling(server: SandboxServer, sandbox: SandboxClient,
                                                              database_url: str) -> None:
    cast = await cast_of(sandbox, "en")
    port, clock = free_port(), JumpClock()
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                             health=health_settings(port), reminders={"sweep_seconds": 0.2})
    async with (bot_running(settings, "polling", clock=clock) as application,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http):
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["database"] is True and ready.json()["mode"] == "polling"
        before = await scrape(http)

        await place_order(cast, "en")  # /start, the menu, taps and typing: a whole request dialog
        await outbox_drained(application)
        after = await scrape(http)
        handled = {kind: value(after, "vloop_updates_total", kind=kind, outcome="handled")
                   - value(before, "vloop_updates_total", kind=kind, outcome="handled")
                   for kind in ("message", "callback_query")}
        assert handled["message"] >= 4 and handled["callback_query"] >= 2, handled
        assert (value(after, "vloop_handler_seconds_count") - value(before, "vloop_handler_seconds_count")
                >= sum(handled.values()))
        sent = value(after, "vloop_outbox_sent_total") - value(before, "vloop_outbox_sent_total")
        assert sent >= sum(handled.values()) - 1 and value(after, "vloop_outbox_queued_total") >= sent
        # The admin never opened a chat with the bot: Telegram refuses the new request's notice (403).
        assert value(after, "vloop_outbox_failed_total") - value(before, "vloop_outbox_failed_total") == 1
        assert value(after, "vloop_outbox_retried_total") == 0
        assert value(after, "vloop_telegram_429_total", source="outbox") == 0
        assert value(after, "vloop_outbox_pending") == 0 and value(after, "vloop_outbox_oldest_pending_seconds") == 0
        assert value(after, "vloop_database_up") == 1
        assert value(after, "vloop_last_receipt_age_seconds") < 11  # a long poll lasts 10 s
        report = (await http.get("/readyz")).json()
        assert report["outbox_pending"] == 0 and report["outbox_oldest_pending_seconds"] is None
        assert report["last_receipt_age_seconds"] is not None and report["last_receipt_age_seconds"] < 11
        assert report["schedule_due"] == 0

        # An hour on, the hourly watch over activities' ends (scheduled at start) falls due and fires.
        fired_before = sum(value(after, "vloop_schedule_fired_total", outcome=o) for o in ("done", "skipped"))
        clock.advance(61 * 60)
        deadline = time.monotonic() + 5
        while True:
            now = await scrape(http)
            fired = sum(value(now, "vloop_schedule_fired_total", outcome=o) for o in ("done", "skipped"))
            if fired > fired_before or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert fired > fired_before, "the hourly schedule row did not fire"
        assert value(now, "vloop_schedule_due") == 0


async def test_readiness_by_webhook_when_quiet_and_without_the_database(server: SandboxServer, sandbox: SandboxClient,
                                                             database_url: str, tmp_path: Path) -> None:
    cast = await cast_of(sandbox, "en")
    port, clock = free_port(), JumpClock()
    async with database_outage(database_url, tmp_path) as outage:
        settings = make_settings(server, outage.url, admins=[cast.admin.id], coordinators_chat_id=None,
                                 health={**health_settings(port), "webhook_stale_seconds": 600})
        async with (bot_running(settings, "webhook", clock=clock) as application,
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http):
            first = await http.get("/readyz")
            assert first.status_code == 200, first.json()
            assert first.json()["mode"] == "webhook" and first.json()["last_receipt_age_seconds"] is None
            before = await scrape(http)

            await cast.resident.start()
            await wait_text(cast.resident, "Hello")
            await outbox_drained(application)
            after = await scrape(http)
            assert (value(after, "vloop_updates_total", kind="message", outcome="handled")
                    == value(before, "vloop_updates_total", kind="message", outcome="handled") + 1)
            assert value(after, "vloop_outbox_sent_total") > value(before, "vloop_outbox_sent_total")
            assert value(after, "vloop_outbox_pending") == 0
            report = (await http.get("/readyz")).json()
            assert report["last_receipt_age_seconds"] is not None and report["last_receipt_age_seconds"] < 5

            # Telegram posts only when someone writes: ten quiet minutes are past webhook_stale_seconds.
            clock.advance(601)
            quiet = await http.get("/readyz")
            assert quiet.status_code == 503 and quiet.json()["receiving"] is False
            assert quiet.json()["database"] is True and quiet.json()["last_receipt_age_seconds"] > 600
            await cast.resident.send("/start")
            await wait_text(cast.resident, "Hello")
            assert (await http.get("/readyz")).json()["receiving"] is True

            deps = application.bot_data.deps
            assert deps is not None
            await outage.cut(deps.engine)
            try:
                gone = await http.get("/readyz")
                assert gone.status_code == 503
                assert gone.json()["database"] is False and gone.json()["ready"] is False
                assert gone.json()["outbox_pending"] is None
                assert value(await scrape(http), "vloop_database_up") == 0
                assert (await http.get("/healthz")).status_code == 200  # alive: no reason to restart it
            finally:
                await outage.restore()
            back = await ready_again(http)
            assert back["database"] is True and back["outbox_pending"] is not None
            await outbox_drained(application)  # what waited during the outage goes out
            assert (await http.get("/readyz")).json()["outbox_pending"] == 0


async def test_a_health_port_in_use_stops_the_bot_with_one_line(server: SandboxServer, sandbox: SandboxClient,
                                                                database_url: str) -> None:
    cast = await cast_of(sandbox, "en")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None,
                                 health=health_settings(port))
        with pytest.raises(ConfigError, match=rf"health endpoint cannot listen on 127\.0\.0\.1:{port} .*\[health\]"):
            async with bot_running(settings, "polling"):
                pass
