"""What careless and hostile people (and a broken network) can send, for the fuzz suite: every
message kind, forged taps, anonymous administrators, forwards, edits, raw and malformed updates;
and what the fuzzer reads back: which updates the bot acknowledged, which taps it left unanswered."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Update

from sandbox import ControlError, SandboxClient, SandboxServer
from tests.sandbox.conftest import Api

ALL_KINDS = ["message", "edited_message", "callback_query", "channel_post"]


async def updates_after(api: Api, seen: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    offset = seen[-1]["update_id"] + 1 if seen else None
    return await api.ok("getUpdates", offset=offset, allowed_updates=ALL_KINDS)


async def parsed(server: SandboxServer, body: dict[str, Any]) -> Update:
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        update = Update.de_json(body, bot)
    assert update is not None
    return update


@pytest.mark.parametrize("kind", ["sticker", "video", "audio", "animation", "video_note", "photo", "voice",
                                  "document"])
async def test_every_media_kind_reaches_the_bot_in_its_api_shape(api: Api, server: SandboxServer,
                                                                 sandbox: SandboxClient, kind: str) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.send_file(kind, b"bytes")
    [body] = await updates_after(api)
    message = (await parsed(server, body)).message
    assert message is not None and getattr(message, kind), body
    assert message.text is None and message.caption is None


async def test_stickers_and_video_notes_have_no_caption(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    with pytest.raises(ControlError, match="no caption"):
        await alice.send_file("sticker", caption="hi")
    await alice.send_file("video", caption="<b>my</b> video")
    assert (await alice.chat()).messages[-1].text == "<b>my</b> video"


async def test_forged_tap_carries_any_data_and_stays_pending_until_answered(api: Api, server: SandboxServer,
                                                                            sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    seen = await updates_after(api)
    await api.ok("sendMessage", chat_id=alice.id, text="card")
    oversized = "acc:" + "9" * 80
    tap = await alice.forge_tap(oversized)
    [body] = await updates_after(api, seen)
    query = (await parsed(server, body)).callback_query
    assert query is not None and query.data == oversized and query.message is not None
    assert query.message.message_id == tap.message_id
    assert await sandbox.pending_callbacks() == [tap.callback_query_id]
    await api.ok("answerCallbackQuery", callback_query_id=tap.callback_query_id)
    assert await sandbox.pending_callbacks() == []


async def test_forged_tap_needs_a_message_to_tap_on(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    with pytest.raises(ControlError, match="no bot message"):
        await alice.forge_tap("acc:1")
    await alice.start()
    with pytest.raises(ControlError, match="no message 99"):
        await alice.forge_tap("acc:1", message_id=99)


async def test_anonymous_administrator_writes_as_the_group(api: Api, server: SandboxServer,
                                                           sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    member = await sandbox.create_user("Member")
    group = await sandbox.create_group("Team", creator=owner, members=[member])
    await group.add_bot(owner)
    seen = await updates_after(api)
    await owner.send("/orders@sandbox_bot", chat_id=group.id, anonymous=True)
    [body] = await updates_after(api, seen)
    message = (await parsed(server, body)).message
    assert message is not None and message.from_user is not None
    assert message.from_user.username == "GroupAnonymousBot" and message.from_user.id != owner.id
    assert message.sender_chat is not None and message.sender_chat.id == group.id
    with pytest.raises(ControlError, match="administrators"):
        await member.send("/orders@sandbox_bot", chat_id=group.id, anonymous=True)


async def test_forwarded_messages_and_contacts_of_someone_else(api: Api, server: SandboxServer,
                                                               sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    bob = await sandbox.create_user("Bob", phone_number="+8613900000002")
    await alice.forward("call me", origin=bob)
    await alice.forward("secret")
    await alice.share_contact(of_user=bob)
    bodies = await updates_after(api)
    first, second, contact = [(await parsed(server, body)).message for body in bodies]
    assert first is not None and first.forward_origin is not None and first.forward_origin.type == "user"
    assert first.forward_origin.sender_user.id == bob.id  # type: ignore[attr-defined]
    assert second is not None and second.forward_origin is not None and second.forward_origin.type == "hidden_user"
    assert contact is not None and contact.contact is not None
    assert (contact.contact.user_id, contact.contact.phone_number) == (bob.id, "+8613900000002")


async def test_edits_reach_the_bot_only_if_it_asked_for_them_or_forced(api: Api, server: SandboxServer,
                                                                       sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    sent = await alice.send("first")
    await api.ok("getUpdates", allowed_updates=["message"])
    assert (await alice.edit(sent["message_id"], "second"))["update_id"] is None
    forced = await alice.edit(sent["message_id"], "third", force=True)
    [body] = await api.ok("getUpdates", offset=sent["update_id"] + 1)
    assert body["update_id"] == forced["update_id"]
    edited = (await parsed(server, body)).edited_message
    assert edited is not None and edited.text == "third" and edited.edit_date is not None
    assert [m.text for m in (await alice.chat()).messages] == ["third"]
    other = await sandbox.create_user("Other")
    with pytest.raises(ControlError, match="no text message"):
        await other.edit(sent["message_id"], "not yours")


async def test_raw_updates_arrive_exactly_as_injected(api: Api, sandbox: SandboxClient) -> None:
    await api.ok("getUpdates", allowed_updates=["message"])
    channel_post = {"message_id": 1, "date": 0, "chat": {"id": -1001, "type": "channel", "title": "News"},
                    "sender_chat": {"id": -1001, "type": "channel", "title": "News"}, "text": "hello"}
    assert await sandbox.inject("channel_post", channel_post, force=False) is None
    posted = await sandbox.inject("channel_post", channel_post)
    malformed = await sandbox.inject("message", {"message_id": "not a number", "chat": None})
    bodies = await api.ok("getUpdates")
    assert bodies == [{"update_id": posted, "channel_post": channel_post},
                      {"update_id": malformed, "message": {"message_id": "not a number", "chat": None}}]


async def test_an_update_is_acknowledged_once_a_later_offset_confirms_it(api: Api, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    first = (await alice.send("one"))["update_id"]
    second = (await alice.send("two"))["update_id"]
    assert not await sandbox.acknowledged(first)
    await api.ok("getUpdates")  # fetched, not yet confirmed
    assert not await sandbox.acknowledged(first, timeout=0.05)
    await api.ok("getUpdates", offset=first + 1, timeout=0)
    assert await sandbox.acknowledged(first) and not await sandbox.acknowledged(second)
    await sandbox.redeliver(first)
    assert not await sandbox.acknowledged(first)
    [replayed] = await api.ok("getUpdates", offset=second + 1, timeout=0)  # the replay, delivered
    assert replayed["update_id"] == first and not await sandbox.acknowledged(first)
    await api.ok("getUpdates", offset=second + 1, timeout=0)
    assert await sandbox.acknowledged(first) and await sandbox.acknowledged(second)
    with pytest.raises(ControlError):
        await sandbox.acknowledged(123)
