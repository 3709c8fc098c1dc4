"""Faults on demand: 429, 5xx, slow answers, dropped connections, duplicated and bulk updates."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from sandbox import SandboxClient, SandboxServer
from tests.sandbox.conftest import Api, FakeClock, started_user
from tests.sandbox.tinybot import build_tiny_bot, running


async def test_injected_429_opens_a_retry_window(clocked_api: Api, clocked_server: SandboxServer,
                                                 clock: FakeClock) -> None:
    chat, other = started_user(clocked_server), started_user(clocked_server, "Bob")
    async with SandboxClient(clocked_server.base_url) as sandbox:
        await sandbox.fail_next("429", method="sendMessage", chat_id=chat, retry_after=3)
    status, body = await clocked_api("sendMessage", chat_id=chat, text="hi")
    assert (status, body["parameters"]) == (429, {"retry_after": 3})
    await clocked_api.ok("sendMessage", chat_id=other, text="other chats are not affected")
    clock.advance(2.5)
    status, body = await clocked_api("sendMessage", chat_id=chat, text="too early")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert [v.chat_id for v in clocked_server.flood.violations] == [chat]
    clock.advance(0.5)
    await clocked_api.ok("sendMessage", chat_id=chat, text="on time")


async def test_ptb_sees_429_as_retry_after(server: SandboxServer, sandbox: SandboxClient) -> None:
    chat = started_user(server)
    await sandbox.fail_next("429", method="sendMessage", retry_after=2)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat, "hi")
    assert caught.value.retry_after.total_seconds() == 2


async def test_5xx_then_recovery(server: SandboxServer, sandbox: SandboxClient) -> None:
    chat = started_user(server)
    await sandbox.fail_next("5xx", count=2, method="sendMessage", status=502)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_message(chat, "hi")
        await bot.send_message(chat, "third time lucky")
    assert [c["status"] for c in await sandbox.calls("sendMessage")] == [502, 502, 200]


async def test_slow_answer_times_the_client_out(server: SandboxServer, sandbox: SandboxClient) -> None:
    chat = started_user(server)
    await sandbox.fail_next("slow", method="sendMessage", delay=0.5)
    async with Bot(server.token, base_url=server.bot_api_url, request=HTTPXRequest(read_timeout=0.1)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(chat, "hi")
        await bot.send_message(chat, "fast again")


@pytest.mark.parametrize("apply", [False, True])
async def test_dropped_connection(server: SandboxServer, sandbox: SandboxClient, apply: bool) -> None:
    chat = started_user(server)
    await sandbox.fail_next("drop", method="sendMessage", chat_id=chat, apply=apply)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(chat, "lost in transit?")
    delivered = [m.text for m in (await sandbox.chat(chat)).bot_messages]
    assert delivered == (["lost in transit?"] if apply else [])


async def test_faults_match_method_and_chat(server: SandboxServer, sandbox: SandboxClient) -> None:
    alice, bob = started_user(server), started_user(server, "Bob")
    await sandbox.fail_next("5xx", method="sendMessage", chat_id=bob)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        await bot.get_me()
        await bot.send_message(alice, "fine")
        with pytest.raises(NetworkError):
            await bot.send_message(bob, "fails")
        await bot.send_message(bob, "fine now")
    await sandbox.fail_next("5xx")
    await sandbox.clear_faults()
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        await bot.send_message(alice, "nothing armed")


@pytest.mark.usefixtures("tiny_bot")
async def test_same_update_delivered_twice(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    await alice.next_message()
    await sandbox.duplicate_next_updates(1)
    await alice.send("echo me")
    await alice.wait_for(lambda chat: [m.text for m in chat.bot_messages].count("echo me") == 2)


async def test_duplicate_carries_the_same_update_id(api: Api, server: SandboxServer, sandbox: SandboxClient) -> None:
    chat = started_user(server)
    await sandbox.duplicate_next_updates(1)
    server.people.send_text(chat, "twice")
    ids = [u["update_id"] for u in await api.ok("getUpdates") if u["message"]["text"] == "twice"]
    assert len(ids) == 2 and ids[0] == ids[1]


@pytest.mark.usefixtures("tiny_bot")
async def test_redelivered_update_is_handled_again(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    await alice.next_message()
    sent = await alice.send("again")
    await alice.next_message()
    await sandbox.redeliver(sent["update_id"])
    await alice.wait_for(lambda chat: [m.text for m in chat.bot_messages].count("again") == 2)


async def test_many_updates_arrive_in_one_batch(api: Api, server: SandboxServer, sandbox: SandboxClient) -> None:
    users = [await sandbox.create_user(f"U{i}") for i in range(20)]
    batch = sandbox.batch()
    for user in users:
        batch.send(user, f"hello from {user.first_name}")
    results = await batch.run()
    assert len({r["update_id"] for r in results}) == 20
    updates = await api.ok("getUpdates")
    assert len(updates) == 20  # one getUpdates answer carries them all


@pytest.mark.usefixtures("tiny_bot")
async def test_bulk_taps_reach_the_bot_together(server: SandboxServer, sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    members = [await sandbox.create_user(f"M{i}") for i in range(10)]
    group = await sandbox.create_group("Team", creator=owner, members=members)
    await group.add_bot(owner, admin=True)
    await owner.send("/buttons", chat_id=group.id)
    await group.wait_for(lambda chat: any(m.text == "Pick one" for m in chat.bot_messages))
    batch = sandbox.batch()
    for member in members:
        batch.tap(member, "Yes", chat_id=group.id)
    taps = await batch.run()
    created = {round(t["created_at"], 3) for t in taps}
    assert max(created) - min(created) < 0.5
    answers = [await sandbox.callback_answer(t["callback_query_id"]) for t in taps]
    assert all(a.answered and a.text == "You chose yes" for a in answers)


async def test_webhook_secret_is_sent_and_failures_are_retried(server: SandboxServer, sandbox: SandboxClient) -> None:
    async with running(build_tiny_bot(server), "webhook"):
        hook_url = server.feed.webhook.url if server.feed.webhook else ""
        alice = await sandbox.create_user("Alice")
        await alice.start()
        assert (await alice.next_message()).text == "started"
        # Telegram now sends a different secret: the bot must refuse every delivery (403)...
        server.feed.set_webhook(hook_url, "not-the-bots-secret", 40, None, False)
        await alice.send("held back")
        stats = await _wait_for_failures(sandbox)
        assert "403" in stats["last_error_message"]
        assert [m.text for m in (await alice.chat()).bot_messages] == ["started"]
        # ...and keeps retrying, so the update arrives once the secret is right again.
        server.feed.set_webhook(hook_url, "tiny-bot-secret_1", 40, None, False)
        assert (await alice.next_message()).text == "held back"


async def _wait_for_failures(sandbox: SandboxClient) -> dict:
    import asyncio

    for _ in range(200):
        stats = await sandbox.webhook_stats()
        if stats["failures"] >= 2:
            return stats
        await asyncio.sleep(0.02)
    raise AssertionError("the webhook was never refused")


async def test_webhook_retries_until_the_bot_is_up(server: SandboxServer, sandbox: SandboxClient) -> None:
    from tests.sandbox.tinybot import free_port

    port = free_port()
    server.feed.set_webhook(f"http://127.0.0.1:{port}/tg", "tiny-bot-secret_1", 40, None, False)
    alice = await sandbox.create_user("Alice")
    await alice.start()  # nobody listens yet: connection refused, retried
    await _wait_for_failures(sandbox)
    app = build_tiny_bot(server)
    async with app:
        await app.start()
        await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="tg",
                                        secret_token="tiny-bot-secret_1", webhook_url=None)
        try:
            assert (await alice.next_message()).text == "started"
        finally:
            await app.updater.stop()
            await app.stop()


async def test_updates_fetched_but_unconfirmed_go_to_a_new_webhook(api: Api, server: SandboxServer,
                                                                     sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    assert len(await api.ok("getUpdates")) == 1  # fetched, never confirmed
    async with running(build_tiny_bot(server), "webhook"):
        assert (await alice.next_message()).text == "started"


async def test_injected_update_is_delivered_as_given(api: Api, server: SandboxServer, sandbox: SandboxClient) -> None:
    """A malformed update (a message without chat or date) reaches getUpdates exactly as given, with
    a fresh id; unconfirmed it comes again, confirmed it is gone, and it can be redelivered."""
    update_id = await sandbox.inject("message", {"message_id": 1, "text": "no chat, no date"})
    assert [u for u in await api.ok("getUpdates")] == [
        {"update_id": update_id, "message": {"message_id": 1, "text": "no chat, no date"}}]
    assert [u["update_id"] for u in await api.ok("getUpdates")] == [update_id]
    assert await api.ok("getUpdates", offset=update_id + 1, timeout=0) == []
    await sandbox.redeliver(update_id)
    again = await api.ok("getUpdates", timeout=0)
    assert [u["message"] for u in again] == [{"message_id": 1, "text": "no chat, no date"}]
