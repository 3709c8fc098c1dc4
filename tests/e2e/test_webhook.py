"""The bot's own webhook endpoint: secret checked in constant time, garbage refused, and 200 only
after the update was handled (so Telegram redelivers anything a crash interrupted)."""

from __future__ import annotations

import json

import httpx

from bot.app import build_application
from bot.cli import migrate
from bot.runner import running
from bot.settings import WebhookSettings
from sandbox import SandboxClient, SandboxServer

from ..sandbox.tinybot import free_port
from .harness import JumpClock, cast_of, make_settings, wait_text

SECRET = "hook-secret_42"


async def test_webhook_refuses_forged_and_malformed_posts(server: SandboxServer, sandbox: SandboxClient,
                                                          database_url: str) -> None:
    cast = await cast_of(sandbox, "en")
    settings = make_settings(server, database_url, admins=[cast.admin.id], coordinators_chat_id=None)
    await migrate(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=url, secret_token=SECRET)
    forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": cast.resident.id, "type": "private"},
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
