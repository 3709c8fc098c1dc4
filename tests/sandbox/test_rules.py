"""Telegram's rules, enforced by the sandbox, checked with raw Bot API calls."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken

from sandbox import SandboxServer
from tests.sandbox.conftest import Api, FakeClock, started_user


def keyboard(data: str) -> dict:
    return {"inline_keyboard": [[{"text": "Tap", "callback_data": data}]]}


async def test_wrong_token_is_401(api: Api, server: SandboxServer) -> None:
    status, body = await api("getMe", token="999:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    bot = Bot("999:wrong", base_url=server.bot_api_url)
    try:
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        await bot.shutdown()


async def test_get_me_describes_the_bot(api: Api) -> None:
    me = await api.ok("getMe")
    assert me["is_bot"] and me["username"] == "sandbox_bot" and me["id"] == 123456789


async def test_unknown_method_is_404_and_recorded(api: Api, server: SandboxServer) -> None:
    status, body = await api("sendTelepathy", chat_id=1, text="hi")
    assert (status, body["description"]) == (404, "Not Found")
    assert server.calls[-1].method == "sendTelepathy" and server.calls[-1].status == 404


async def test_text_must_be_1_to_4096_characters(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    assert await api("sendMessage", chat_id=chat, text="") == (
        400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"})
    status, body = await api("sendMessage", chat_id=chat, text="字" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    assert (await api.ok("sendMessage", chat_id=chat, text="字" * 4096))["text"] == "字" * 4096


async def test_text_length_counts_after_entities_parsing(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    text = "<b>" + "a" * 4096 + "</b>"
    assert (await api.ok("sendMessage", chat_id=chat, text=text, parse_mode="HTML"))["text"] == "a" * 4096


@pytest.mark.parametrize("data", ["", "x" * 65, "派单" * 11])
async def test_callback_data_outside_1_to_64_bytes_is_refused(api: Api, server: SandboxServer, data: str) -> None:
    status, body = await api("sendMessage", chat_id=started_user(server), text="card", reply_markup=keyboard(data))
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_callback_data_of_64_bytes_is_accepted(api: Api, server: SandboxServer) -> None:
    await api.ok("sendMessage", chat_id=started_user(server), text="card", reply_markup=keyboard("派" * 21 + "x"))


@pytest.mark.parametrize("text", ["I <3 you", "<b>bold", "<script>x</script>", "a &nbsp; b", "<b><i>x</b></i>"])
async def test_malformed_html_is_refused(api: Api, server: SandboxServer, text: str) -> None:
    status, body = await api("sendMessage", chat_id=started_user(server), text=text, parse_mode="HTML")
    assert status == 400 and body["description"].startswith("Bad Request: can't parse entities")


async def test_escaped_html_shows_as_plain_text(api: Api, server: SandboxServer) -> None:
    sent = await api.ok("sendMessage", chat_id=started_user(server), parse_mode="HTML",
                        text='<b>Order</b> &lt;3 &amp; "A & B" &#20320;<a href="https://x.org">link</a>')
    assert sent["text"] == 'Order <3 & "A & B" 你link'


async def test_editing_to_identical_content_is_not_modified(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    sent = await api.ok("sendMessage", chat_id=chat, text="card", reply_markup=keyboard("a"))
    status, body = await api("editMessageText", chat_id=chat, message_id=sent["message_id"], text="card",
                             reply_markup=keyboard("a"))
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    status, body = await api("editMessageReplyMarkup", chat_id=chat, message_id=sent["message_id"],
                             reply_markup=keyboard("a"))
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    edited = await api.ok("editMessageReplyMarkup", chat_id=chat, message_id=sent["message_id"],
                          reply_markup=keyboard("b"))
    assert edited["reply_markup"] == keyboard("b")


async def test_edit_of_a_missing_or_foreign_message_is_refused(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    _status, body = await api("editMessageText", chat_id=chat, message_id=999, text="x")
    assert body["description"] == "Bad Request: message to edit not found"
    own = server.people.send_text(chat, "typed by the user")
    _status, body = await api("editMessageText", chat_id=chat, message_id=own["message_id"], text="x")
    assert body["description"] == "Bad Request: message can't be edited"


async def test_unknown_chat_is_400(api: Api) -> None:
    status, body = await api("sendMessage", chat_id=424242, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_user_who_never_started_the_bot_is_403(api: Api, server: SandboxServer) -> None:
    person = server.people.create_user("Shy")
    status, body = await api("sendMessage", chat_id=person.id, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot can't initiate conversation with a user")


async def test_user_who_blocked_the_bot_is_403_and_the_bot_is_told(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    server.people.block(chat)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat, "hi")
    updates = await api.ok("getUpdates")
    change = updates[-1]["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == ("member", "kicked")
    server.people.unblock(chat)
    await api.ok("sendMessage", chat_id=chat, text="welcome back")


async def test_group_upgraded_to_supergroup_answers_migrate_to_chat_id(server: SandboxServer, api: Api) -> None:
    owner = started_user(server, "Owner")
    group = server.people.create_group("Team", creator=owner)
    server.people.add_bot(group.id, owner)
    new_id = server.people.migrate(group.id, owner)["new_chat_id"]
    status, body = await api("sendMessage", chat_id=group.id, text="card")
    assert status == 400 and body["parameters"] == {"migrate_to_chat_id": new_id}
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        with pytest.raises(ChatMigrated) as caught:
            await bot.send_message(group.id, "card")
        assert caught.value.new_chat_id == new_id
        assert (await bot.send_message(new_id, "card")).chat.type == "supergroup"
    service = ("migrate_to_chat_id", "migrate_from_chat_id", "new_chat_members")
    kinds = [k for u in await api.ok("getUpdates") if "message" in u for k in service if k in u["message"]]
    assert kinds == ["new_chat_members", "migrate_to_chat_id", "migrate_from_chat_id"]


async def test_bot_outside_a_group_is_403(api: Api, server: SandboxServer) -> None:
    owner = started_user(server, "Owner")
    group = server.people.create_group("Team", creator=owner)
    status, body = await api("sendMessage", chat_id=group.id, text="hi")
    assert (status, body["description"]) == (403, "Forbidden: bot is not a member of the group chat")
    server.people.add_bot(group.id, owner)
    await api.ok("sendMessage", chat_id=group.id, text="hi")
    server.people.remove_bot(group.id, owner)
    status, body = await api("sendMessage", chat_id=group.id, text="hi")
    assert status == 403


async def test_private_chat_flood_limit(clocked_api: Api, clocked_server: SandboxServer, clock: FakeClock) -> None:
    chat = started_user(clocked_server)
    for _ in range(5):  # a short burst is tolerated
        await clocked_api.ok("sendMessage", chat_id=chat, text="hi")
    status, body = await clocked_api("sendMessage", chat_id=chat, text="hi")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert body["description"] == "Too Many Requests: retry after 1"
    assert clocked_server.flood.violations == []
    clock.advance(0.5)  # still inside the window: refused again and counted as a violation
    status, _ = await clocked_api("sendMessage", chat_id=chat, text="hi")
    assert status == 429 and len(clocked_server.flood.violations) == 1
    clock.advance(0.6)
    await clocked_api.ok("sendMessage", chat_id=chat, text="hi")
    status, _ = await clocked_api("sendMessage", chat_id=chat, text="hi")
    assert status == 429  # sustained rate is one per second
    clock.advance(1.0)
    await clocked_api.ok("sendMessage", chat_id=chat, text="hi")


async def test_group_flood_limit_is_20_per_minute(clocked_api: Api, clocked_server: SandboxServer,
                                                  clock: FakeClock) -> None:
    owner = started_user(clocked_server, "Owner")
    group = clocked_server.people.create_group("Team", creator=owner)
    clocked_server.people.add_bot(group.id, owner)
    for _ in range(20):
        await clocked_api.ok("sendMessage", chat_id=group.id, text="card")
        clock.advance(1.0)
    status, body = await clocked_api("sendMessage", chat_id=group.id, text="card")
    assert status == 429 and body["parameters"]["retry_after"] == 40
    other = started_user(clocked_server, "Other")  # other chats are unaffected
    await clocked_api.ok("sendMessage", chat_id=other, text="hi")
    clock.advance(40.0)
    await clocked_api.ok("sendMessage", chat_id=group.id, text="card")


async def test_overall_flood_limit_is_30_per_second(clocked_api: Api, clocked_server: SandboxServer,
                                                    clock: FakeClock) -> None:
    chats = [started_user(clocked_server, f"U{i}") for i in range(31)]
    for chat in chats[:30]:
        await clocked_api.ok("sendMessage", chat_id=chat, text="news")
    status, body = await clocked_api("sendMessage", chat_id=chats[30], text="news")
    assert status == 429 and body["parameters"]["retry_after"] == 1
    clock.advance(1.0)
    await clocked_api.ok("sendMessage", chat_id=chats[30], text="news")


async def test_flood_limits_can_be_switched_off() -> None:
    from sandbox import FloodLimits

    async with SandboxServer(flood_limits=FloodLimits(enabled=False)) as server:
        chat = started_user(server)
        async with Bot(server.token, base_url=server.bot_api_url) as bot:
            for _ in range(20):
                await bot.send_message(chat, "fast")


async def test_protect_content_is_recorded_per_message(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    secret = await api.ok("sendMessage", chat_id=chat, text="address", protect_content=True)
    plain = await api.ok("sendMessage", chat_id=chat, text="hello")
    assert secret["has_protected_content"] and "has_protected_content" not in plain
    view = server.world.chats[chat]
    assert view.messages[secret["message_id"]].protect_content
    assert not view.messages[plain["message_id"]].protect_content


async def test_protected_messages_cannot_be_copied_or_forwarded(api: Api, server: SandboxServer) -> None:
    alice, bob = started_user(server, "Alice"), started_user(server, "Bob")
    secret = await api.ok("sendMessage", chat_id=alice, text="address", protect_content=True)
    for method in ("copyMessage", "forwardMessage"):
        status, body = await api(method, chat_id=bob, from_chat_id=alice, message_id=secret["message_id"])
        assert status == 400 and "protected content" in body["description"]
    plain = await api.ok("sendMessage", chat_id=alice, text="meet at 9")
    copied = await api.ok("copyMessage", chat_id=bob, from_chat_id=alice, message_id=plain["message_id"])
    forwarded = await api.ok("forwardMessage", chat_id=bob, from_chat_id=alice, message_id=plain["message_id"])
    assert server.world.chats[bob].messages[copied["message_id"]].text == "meet at 9"
    assert forwarded["forward_origin"]["type"] == "user"


async def test_callback_query_is_answered_once_and_not_too_late(clocked_api: Api, clocked_server: SandboxServer,
                                                                clock: FakeClock) -> None:
    chat = started_user(clocked_server)
    await clocked_api.ok("sendMessage", chat_id=chat, text="card", reply_markup=keyboard("go"))
    first = clocked_server.people.tap(chat, "Tap")["callback_query_id"]
    await clocked_api.ok("answerCallbackQuery", callback_query_id=first, text="ok")
    status, body = await clocked_api("answerCallbackQuery", callback_query_id=first)
    assert status == 400 and body["description"].startswith("Bad Request: query is too old")
    late = clocked_server.people.tap(chat, "Tap")["callback_query_id"]
    clock.advance(60)
    status, _ = await clocked_api("answerCallbackQuery", callback_query_id=late)
    assert status == 400
    status, body = await clocked_api("answerCallbackQuery", callback_query_id="forged")
    assert status == 400


async def test_get_updates_confirms_by_offset(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    server.people.send_text(chat, "two")
    server.people.send_text(chat, "three")
    first = await api.ok("getUpdates")
    ids = [u["update_id"] for u in first]
    assert [u["message"]["text"] for u in first] == ["/start", "two", "three"]
    assert [u["update_id"] for u in await api.ok("getUpdates")] == ids  # not confirmed: sent again
    assert [u["update_id"] for u in await api.ok("getUpdates", offset=ids[1])] == ids[1:]
    assert await api.ok("getUpdates", offset=ids[2] + 1) == []
    assert await api.ok("getUpdates", offset=ids[0]) == []  # confirmed updates are forgotten


async def test_get_updates_long_polls_until_an_update_arrives(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    ids = [u["update_id"] for u in await api.ok("getUpdates")]
    waiting = asyncio.create_task(api.ok("getUpdates", offset=ids[-1] + 1, timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    server.people.send_text(chat, "wake up")
    assert [u["message"]["text"] for u in await waiting] == ["wake up"]


async def test_second_poller_ends_the_first_with_conflict(api: Api) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(api("getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await second)[0] == 200


async def test_webhook_and_polling_are_exclusive(api: Api) -> None:
    await api.ok("setWebhook", url="http://127.0.0.1:9/hook", secret_token="s3cret")
    status, body = await api("getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    info = await api.ok("getWebhookInfo")
    assert info["url"] == "http://127.0.0.1:9/hook"
    status, body = await api("setWebhook", url="http://127.0.0.1:9/hook", secret_token="bad secret!")
    assert status == 400
    await api.ok("deleteWebhook")
    assert await api.ok("getUpdates") == []


async def test_allowed_updates_filters_what_is_queued(api: Api, server: SandboxServer) -> None:
    chat = started_user(server)
    await api.ok("getUpdates", offset=-1, allowed_updates=json.dumps(["callback_query"]))
    server.people.send_text(chat, "ignored")
    assert [u for u in await api.ok("getUpdates") if "message" in u and u["message"]["text"] == "ignored"] == []


async def test_commands_per_scope_and_language_resolve_like_telegram(api: Api, server: SandboxServer) -> None:
    resident = started_user(server, "Resident")
    coordinator = started_user(server, "Coordinator")
    server.world.people[coordinator].language_code = "zh-hans"
    group = server.people.create_group("Team", creator=coordinator, members=[resident])
    server.people.add_bot(group.id, coordinator)
    await api.ok("setMyCommands", commands=[{"command": "start", "description": "Start"}])
    await api.ok("setMyCommands", commands=[{"command": "request", "description": "New request"}],
                 scope={"type": "all_private_chats"})
    await api.ok("setMyCommands", commands=[{"command": "orders", "description": "开放的订单"}],
                 scope={"type": "chat", "chat_id": coordinator}, language_code="zh")
    await api.ok("setMyCommands", commands=[{"command": "link", "description": "Bind"}],
                 scope={"type": "chat_administrators", "chat_id": group.id})
    seen = server.world

    from sandbox.views import visible_commands

    assert [c["command"] for c in visible_commands(seen, resident, resident)] == ["request"]
    assert [c["command"] for c in visible_commands(seen, coordinator, coordinator)] == ["orders"]
    assert [c["command"] for c in visible_commands(seen, coordinator, group.id)] == ["link"]
    assert [c["command"] for c in visible_commands(seen, resident, group.id)] == ["start"]
    assert await api.ok("getMyCommands", scope={"type": "all_private_chats"}) == [
        {"command": "request", "description": "New request"}]
    await api.ok("deleteMyCommands", scope={"type": "all_private_chats"})
    assert [c["command"] for c in visible_commands(seen, resident, resident)] == ["start"]
    status, body = await api("setMyCommands", commands=[{"command": "Bad-Command", "description": "x"}])
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")


async def test_profile_and_chat_queries(api: Api, server: SandboxServer) -> None:
    owner = started_user(server, "Owner")
    member = started_user(server, "Member")
    group = server.people.create_group("Team", creator=owner, members=[member], supergroup=True)
    server.people.add_bot(group.id, owner, admin=True)
    await api.ok("setMyDescription", description="志愿服务", language_code="zh")
    assert (await api.ok("getMyDescription", language_code="zh"))["description"] == "志愿服务"
    await api.ok("setChatMenuButton", chat_id=owner, menu_button={"type": "commands"})
    assert (await api.ok("getChatMenuButton", chat_id=owner)) == {"type": "commands"}
    assert (await api.ok("getChat", chat_id=group.id))["type"] == "supergroup"
    assert (await api.ok("getChatMember", chat_id=group.id, user_id=member))["status"] == "member"
    status, body = await api("getChatMember", chat_id=group.id, user_id=123)
    assert (status, body["description"]) == (400, "Bad Request: user not found")
    admins = await api.ok("getChatAdministrators", chat_id=group.id)
    assert {a["status"] for a in admins} == {"creator", "administrator"}
    card = await api.ok("sendMessage", chat_id=group.id, text="card")
    await api.ok("pinChatMessage", chat_id=group.id, message_id=card["message_id"])
    assert (await api.ok("getChat", chat_id=group.id))["pinned_message"]["text"] == "card"
    assert await api.ok("sendChatAction", chat_id=owner, action="typing") is True
    location = await api.ok("sendLocation", chat_id=owner, latitude=31.2, longitude=121.5)
    assert location["location"] == {"latitude": 31.2, "longitude": 121.5}
    await api.ok("deleteMessage", chat_id=group.id, message_id=card["message_id"])
    assert server.world.chats[group.id].messages[card["message_id"]].deleted
    await api.ok("leaveChat", chat_id=group.id)
    status, body = await api("sendMessage", chat_id=group.id, text="still here?")
    assert status == 403


async def test_messages_older_than_48_hours_cannot_be_deleted(clocked_api: Api, clocked_server: SandboxServer,
                                                              clock: FakeClock) -> None:
    chat = started_user(clocked_server)
    sent = await clocked_api.ok("sendMessage", chat_id=chat, text="old card")
    clock.advance(48 * 3600 + 1)
    status, body = await clocked_api("deleteMessage", chat_id=chat, message_id=sent["message_id"])
    assert (status, body["description"]) == (400, "Bad Request: message can't be deleted")
    await clocked_api.ok("editMessageText", chat_id=chat, message_id=sent["message_id"], text="closed")


async def test_pinning_in_a_group_needs_admin_rights(api: Api, server: SandboxServer) -> None:
    owner = started_user(server, "Owner")
    group = server.people.create_group("Team", creator=owner)
    server.people.add_bot(group.id, owner)
    card = await api.ok("sendMessage", chat_id=group.id, text="card")
    status, body = await api("pinChatMessage", chat_id=group.id, message_id=card["message_id"])
    assert status == 400 and "not enough rights" in body["description"]


async def test_ptb_maps_sandbox_errors(server: SandboxServer) -> None:
    chat = started_user(server)
    async with Bot(server.token, base_url=server.bot_api_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(chat, "<oops>", parse_mode="HTML")
