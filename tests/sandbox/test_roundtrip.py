"""The tiny bot, in polling and webhook mode, driven by simulated people over real HTTP."""

from __future__ import annotations

import pytest

from sandbox import SandboxClient, SandboxServer

pytestmark = pytest.mark.usefixtures("tiny_bot")


async def test_echo_round_trip(sandbox: SandboxClient) -> None:
    alice = await sandbox.create_user("Alice")
    await alice.start()
    assert (await alice.next_message()).text == "started"
    await alice.send("你好, <world> & friends")
    reply = await alice.next_message()
    assert reply.text == "你好, <world> & friends"
    assert reply.from_bot


async def test_deep_link_payload_reaches_the_bot(sandbox: SandboxClient) -> None:
    bob = await sandbox.create_user("Bob")
    await bob.start(payload="team_repair")
    assert (await bob.next_message()).text == "started:team_repair"


async def test_reply_keyboard_contact_button_shares_own_phone(sandbox: SandboxClient) -> None:
    carol = await sandbox.create_user("Carol", phone_number="+8613800000001")
    await carol.start()
    await carol.next_message()
    assert await carol.reply_keyboard() == [["Share my phone"], ["Help"]]
    await carol.press("Share my phone")
    assert (await carol.next_message()).text == "phone:+8613800000001"
    await carol.press("Help")
    assert (await carol.next_message()).text == "Help"


async def test_typed_contact_and_location(sandbox: SandboxClient) -> None:
    dan = await sandbox.create_user("Dan")
    await dan.start()
    await dan.next_message()
    await dan.share_contact(phone_number="+8613900000002")
    assert (await dan.next_message()).text == "phone:+8613900000002"
    await dan.send_location(31.23, 121.47)
    assert (await dan.next_message()).text == "location:31.23,121.47"


async def test_buttons_are_answered_and_message_edited(sandbox: SandboxClient) -> None:
    erin = await sandbox.create_user("Erin")
    await erin.start()
    await erin.next_message()
    await erin.send("/buttons")
    card = await erin.next_message()
    assert card.button_texts == ["Yes", "No", "Docs"]
    answer = await erin.tap_and_read_answer("Yes")
    assert answer.answered and answer.text == "You chose yes" and not answer.show_alert
    view = await erin.wait_for(lambda chat: chat.message(card.message_id).text == "Chosen: yes by Erin")
    edited = view.message(card.message_id)
    assert edited.buttons == []  # editMessageText without reply_markup removes the keyboard
    assert edited.html == "Chosen: <b>yes</b> by Erin"
    assert [v["text"] for v in edited.history] == ["Pick one"]
    assert edited.history[0]["buttons"][0][0]["callback_data"] == "pick:yes"


async def test_alert_answer_is_visible_as_alert(sandbox: SandboxClient) -> None:
    fay = await sandbox.create_user("Fay")
    await fay.start()
    await fay.send("/buttons")
    await fay.wait_for(lambda chat: any("No" in m.button_texts for m in chat.bot_messages))
    answer = await fay.tap_and_read_answer("No")
    assert answer.show_alert and answer.text == "You chose no"


async def test_uploads_from_people_reach_the_bot_and_download(sandbox: SandboxClient) -> None:
    gus = await sandbox.create_user("Gus")
    await gus.start()
    await gus.next_message()
    await gus.send_voice(b"\x01\x02\x03\x04voice", duration=7)
    assert (await gus.next_message()).text == "Voice:9:01020304"
    await gus.send_photo(b"\xff\xd8\xff\xe0-jpeg")
    assert (await gus.next_message()).text.startswith("tuple:9:ffd8ffe0")
    await gus.send_document(b"name,phone\n", file_name="roster.csv", mime_type="text/csv")
    assert (await gus.next_message()).text == "Document:11:6e616d65"


async def test_bot_uploads_a_photo_with_protected_content(sandbox: SandboxClient, server: SandboxServer) -> None:
    hal = await sandbox.create_user("Hal")
    await hal.start()
    await hal.next_message()
    await hal.send("/photo")
    photo = await hal.next_message()
    assert photo.kind == "photo" and photo.text == "a protected photo" and photo.protect_content
    stored = server.world.files[photo.extra["photo"][-1]["file_id"]]
    assert stored.data == b"\x89PNG-tiny"
    (call,) = await sandbox.calls("sendPhoto")
    assert call["params"]["protect_content"] in (True, "true")


async def test_bot_sends_a_voice_note_again_by_file_id(sandbox: SandboxClient) -> None:
    ivy = await sandbox.create_user("Ivy")
    await ivy.start()
    await ivy.next_message()
    sent = await ivy.send_voice(b"OggS-note", duration=4)
    original = (await ivy.chat()).message(sent["message_id"])
    assert original.extra["voice"]["duration"] == 4
    # a caption routes the voice to the handler that sends it back by file_id
    await sandbox.act({"type": "media", "user_id": ivy.id, "kind": "voice", "data_b64": "T2dnUw==",
                       "caption": "back"})
    echoed = await ivy.wait_for(lambda chat: sum(m.kind == "voice" and m.from_bot for m in chat.messages) == 1)
    voice = next(m for m in echoed.messages if m.kind == "voice" and m.from_bot)
    assert voice.extra["voice"]["file_unique_id"]


async def test_group_commands_and_privacy_mode(sandbox: SandboxClient) -> None:
    owner = await sandbox.create_user("Owner")
    member = await sandbox.create_user("Member")
    group = await sandbox.create_group("Repair team", creator=owner, members=[member])
    await group.add_bot(owner)
    assert (await owner.next_message(chat_id=group.id)).text == "hello Repair team"
    await member.skip_to_now(chat_id=group.id)
    await member.send("just chatting", chat_id=group.id)  # privacy mode: the bot does not see it
    await member.send("/buttons@sandbox_bot", chat_id=group.id)
    card = await member.next_message(chat_id=group.id)
    assert card.text == "Pick one"
    view = await group.view()
    assert [m.text for m in view.messages if not m.from_bot and m.kind == "text"] == [
        "just chatting", "/buttons@sandbox_bot"]
    assert not [m for m in view.bot_messages if m.text == "just chatting"]
    answer = await owner.tap_and_read_answer("Yes", chat_id=group.id)
    assert answer.text == "You chose yes"
    await group.wait_for(lambda chat: chat.message(card.message_id).text == "Chosen: yes by Owner")
