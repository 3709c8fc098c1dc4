"""Telegram may open several webhook requests at once: two updates of one chat arriving together
are still handled one after another, in update_id order, and each answered only once handled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from telegram import Update

from bot.adapters.app import ALLOWED_UPDATES
from bot.adapters.ingest import SECRET_HEADER, WebhookReceiver
from bot.settings import WebhookSettings
from tests.ingest.scripted import Record, ScriptedTelegram, application_on, message, record_handler, until
from tests.sandbox.tinybot import free_port

SECRET = "lanes-webhook-secret_1"
ANNA, BORIS = 101, 102


async def test_parallel_posts_of_one_chat_are_handled_in_update_id_order(tmp_path: Path) -> None:
    release_first = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1:
            await release_first.wait()

    record = Record()
    port = free_port()
    hook = WebhookSettings(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/hook", secret_token=SECRET)
    async with application_on(ScriptedTelegram(), tmp_path, concurrency=8) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        receiver = WebhookReceiver(application, hook, allowed_updates=ALLOWED_UPDATES)
        await receiver.start()
        try:
            async with httpx.AsyncClient(headers={SECRET_HEADER: SECRET}) as http:
                def post(update_id: int, chat: int) -> asyncio.Task[httpx.Response]:
                    body = json.dumps(message(update_id, chat, chat))
                    return asyncio.create_task(http.post(hook.url, content=body))

                first = post(1, ANNA)
                await until(lambda: record.started == [1], "#1 in its handler")
                later = [post(3, ANNA), post(2, ANNA)]  # arriving together, the later id first
                await until(lambda: receiver.lanes.waiting() == 3, "#2 and #3 waiting behind #1")
                other = await post(4, BORIS)  # another chat is not held
                assert other.status_code == 200 and record.handled == [4]
                release_first.set()
                answers = [await first, *[await task for task in later]]
        finally:
            await receiver.stop()
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert record.handled == [4, 1, 2, 3] and not record.overlaps
