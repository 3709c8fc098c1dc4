"""Simulated people and groups: what they can do, what the bot is told, what they see."""

from __future__ import annotations

import pytest

from sandbox import ControlError, SandboxClient, SandboxServer
from tests.sandbox.conftest import Api


async def test_joining_and_leaving_a_group(api: Api, sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    newcomer = await sandbox.create_user("Newcomer")
    group = await sandbox.create_group("Delivery team", creator=owner, supergroup=True)
    await group.add_bot(owner, admin=True)
    seen = await api.ok("getUpdates", allowed_updates=["message", "chat_member", "my_chat_member"])
    await group.join(newcomer)
    await group.leave(newcomer)
    updates = await api.ok("getUpdates", offset=seen[-1]["update_id"] + 1)
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds.count("chat_member") == 2
    joined = next(u["message"] for u in updates if "message" in u and "new_chat_members" in u["message"])
    assert joined["new_chat_members"][0]["id"] == newcomer.id
    left = next(u["message"] for u in updates if "message" in u and "left_chat_member" in u["message"])
    assert left["left_chat_member"]["id"] == newcomer.id
    member = await api.ok("getChatMember", chat_id=group.id, user_id=newcomer.id)
    assert member["status"] == "left"


async def test_adding_and_removing_the_bot_sends_my_chat_member(api: Api, sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    group = await sandbox.create_group("Repair team", creator=owner)
    await group.add_bot(owner)
    await group.remove_bot(owner)
    changes = [u["my_chat_member"] for u in await api.ok("getUpdates") if "my_chat_member" in u]
    assert [(c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes] == [
        ("left", "member"), ("member", "left")]
    assert changes[0]["from"]["id"] == owner.id and changes[0]["chat"]["title"] == "Repair team"


async def test_strangers_cannot_act_in_a_group(sandbox: SandboxClient, server: SandboxServer) -> None:
    owner = await sandbox.create_user("Owner")
    stranger = await sandbox.create_user("Stranger")
    group = await sandbox.create_group("Team", creator=owner)
    with pytest.raises(ControlError, match="not a member"):
        await stranger.send("hi", chat_id=group.id)
    with pytest.raises(ControlError, match="not a member"):
        await group.add_bot(stranger)


async def test_tapping_a_missing_button_is_an_error(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    with pytest.raises(ControlError, match="no inline button"):
        await alice.tap("Accept")
    with pytest.raises(ControlError, match="no keyboard button"):
        await alice.press("Share contact")


async def test_old_group_id_is_closed_after_migration(sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    group = await sandbox.create_group("Team", creator=owner)
    supergroup = await group.migrate(owner)
    assert supergroup.id < -1_000_000_000_000
    assert (await group.view()).migrated_to == supergroup.id
    assert (await supergroup.view()).type == "supergroup"
    with pytest.raises(ControlError, match="upgraded"):
        await owner.send("hi", chat_id=group.id)
    await owner.send("hi", chat_id=supergroup.id)


async def test_chat_view_keeps_edits_and_deletions(api: Api, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    sent = await api.ok("sendMessage", chat_id=alice.id, text="v1")
    await api.ok("editMessageText", chat_id=alice.id, message_id=sent["message_id"], text="v2")
    await api.ok("editMessageText", chat_id=alice.id, message_id=sent["message_id"], text="v3")
    other = await api.ok("sendMessage", chat_id=alice.id, text="to delete")
    await api.ok("deleteMessage", chat_id=alice.id, message_id=other["message_id"])
    view = await alice.chat()
    message = view.message(sent["message_id"])
    assert message.text == "v3" and [v["text"] for v in message.history] == ["v1", "v2"]
    assert message.edit_date is not None
    assert view.message(other["message_id"]).deleted
    assert [m.text for m in view.bot_messages] == ["v3"]


async def test_next_message_waits_and_times_out(api: Api, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    with pytest.raises(TimeoutError):
        await alice.next_message(timeout=0.2)
    await api.ok("sendMessage", chat_id=alice.id, text="first")
    await api.ok("sendMessage", chat_id=alice.id, text="second")
    assert (await alice.next_message()).text == "first"
    assert (await alice.next_message()).text == "second"


async def test_blocking_the_bot(api: Api, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    await alice.block_bot()
    with pytest.raises(ControlError, match="blocked"):
        await alice.send("hello?")
    status, _ = await api("sendMessage", chat_id=alice.id, text="anyone?")
    assert status == 403
    await alice.start()  # pressing Start again unblocks
    await api.ok("sendMessage", chat_id=alice.id, text="welcome back")


async def test_visible_command_menu_through_the_client(api: Api, sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice", language_code="zh-hans")
    await api.ok("setMyCommands", commands=[{"command": "request", "description": "我要求助"}],
                 scope={"type": "all_private_chats"}, language_code="zh")
    await api.ok("setMyCommands", commands=[{"command": "request", "description": "New request"}],
                 scope={"type": "all_private_chats"})
    bob = await sandbox.create_user("Bob", language_code="en")
    assert await sandbox.commands(alice) == [{"command": "request", "description": "我要求助"}]
    assert await sandbox.commands(bob) == [{"command": "request", "description": "New request"}]


async def test_waits_use_real_time_even_when_sandbox_time_stands_still(clocked_server: SandboxServer) -> None:
    async with clocked_server.client() as sandbox:
        alice = await sandbox.create_user("Alice")
        with pytest.raises(TimeoutError):
            await alice.next_message(timeout=0.3)
        tap = await sandbox.callback_answer("never-tapped", timeout=0.2)
        assert not tap.answered


async def test_group_admins_and_usernames(api: Api, sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner", username="owner_li")
    leader = await sandbox.create_user("Leader", username="leader_wang")
    group = await sandbox.create_group("Team", creator=owner, admins=[leader])
    admins = await api.ok("getChatAdministrators", chat_id=group.id)
    assert {(a["user"]["username"], a["status"]) for a in admins} == {
        ("owner_li", "creator"), ("leader_wang", "administrator")}
    await leader.start()
    sent = await api.ok("sendMessage", chat_id="@leader_wang", text="hi")
    assert sent["chat"]["id"] == leader.id and sent["chat"]["username"] == "leader_wang"
