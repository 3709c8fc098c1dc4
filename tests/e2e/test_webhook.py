"""The bot's own webhook endpoint: a secret token required to start and checked in constant time,
served on the path of its URL, bodies that are not updates answered 400 (never 500), and 200 only
after the update was handled or parked (so Telegram redelivers anything a crash or an outage
interrupted; see also test_ingest_failures.py)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.adapters.app import build_application
from bot.adapters.runner import running
from bot.cli import migrate
from bot.settings import ConfigError, WebhookSettings
from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import JumpClock, cast_of, make_settings, wait_text
from tests.sandbox.tinybot import free_port

SECRET = "hook-secret_42"


async def test_webhook_refuses_forged_and_malformed_posts(server: SandboxServer, sandbox: SandboxClient,
                                                          database_url: str) -> None:
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    await migrate(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=url, secret_token=SECRET)
    forged = {"update_id": 1, "message": {"message_id": 1, "date": 0,
                                          "chat": {"id": cast.resident.id, "type": "private"},
                                          "from": {"id": cast.resident.id, "is_bot": False, "first_name": "Eve"},
                                          "text": "/start"}}
    async with running(build_application(settings, clock=JumpClock()), webhook=hook), httpx.AsyncClient() as http:
        assert server.feed.webhook is not None and server.feed.webhook.secret_token == SECRET
        assert (await http.post(url, json=forged)).status_code == 403
        assert (await http.post(url, json=forged,
                                headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})).status_code == 403
        assert (await http.post(url, content=b"not json",
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})).status_code == 400
        assert [c for c in await sandbox.calls("sendMessage")] == []  # nothing reached a handler
        # Telegram's own deliveries (with the secret) work.
        await cast.resident.start()
        await wait_text(cast.resident, "Hello")
        good = await http.post(url, content=json.dumps({**forged, "update_id": 99}),
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                        "Content-Type": "application/json"})
        assert good.status_code == 200


async def test_webhook_refuses_to_start_without_a_secret(server: SandboxServer, sandbox: SandboxClient,
                                                         database_url: str) -> None:
    """Without a secret anyone who reaches the port could post updates as any user (a forged
    ``/coordinator add`` from the admin's id): the bot does not start, and nothing listens."""
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    await migrate(settings)
    port = free_port()
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/telegram")
    with pytest.raises(ConfigError, match="secret token"):
        async with running(build_application(settings, clock=JumpClock()), webhook=hook):
            pass
    assert server.feed.webhook is None and await sandbox.calls("setWebhook") == []
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 1})


async def test_webhook_serves_the_path_of_its_url(server: SandboxServer, sandbox: SandboxClient,
                                                  database_url: str) -> None:
    """``--url https://host/some/path``: Telegram posts to /some/path, and that is where the bot listens."""
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    await migrate(settings)
    port = free_port()
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/some/path",
                           secret_token=SECRET)
    async with running(build_application(settings, clock=JumpClock()), webhook=hook):
        await cast.resident.start()
        await wait_text(cast.resident, "Hello")
        assert (await sandbox.webhook_stats())["failures"] == 0


BAD_BODIES = [b"[]", b'[{"update_id": 5}]', b'"an update"', b"42", b"null", b"true", b"{not json",
              b"\xff\xfe", b"", b"{}", b'{"message": {"text": "/start"}}', b'{"update_id": "5"}',
              b'{"update_id": -1}', b'{"update_id": 1e3}', b'{"update_id": 99999999999999999999999}']


async def test_webhook_answers_400_to_bodies_that_are_not_updates(server: SandboxServer, sandbox: SandboxClient,
                                                                  database_url: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    await migrate(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=url, secret_token=SECRET)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with running(build_application(settings, clock=JumpClock()), webhook=hook), httpx.AsyncClient() as http:
        statuses = {body: (await http.post(url, content=body, headers=headers)).status_code for body in BAD_BODIES}
        assert statuses == {body: 400 for body in BAD_BODIES}
        await cast.resident.start()  # and the bot goes on
        await wait_text(cast.resident, "Hello")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a traceback or error was logged"
