"""Files made at send time: a QR code photo, a data file (an order's exported history), a menu set
for one chat, and an attachment that cannot be made (a failed attempt like any other; the chat
moves on)."""

from __future__ import annotations

import httpx

from bot.domain.attachments import DataFile, QrCode, to_payload
from sandbox import SandboxClient, SandboxServer
from tests.outbox.conftest import MakeSender, Outbox, bot_texts, started_user
from tests.support.qrcodes import decode_qr


async def _photo_bytes(server: SandboxServer, file_id: str) -> bytes:
    async with httpx.AsyncClient() as client:
        found = (await client.get(f"{server.bot_api_url}{server.token}/getFile", params={"file_id": file_id})).json()
        return (await client.get(f"{server.file_url}{server.token}/{found['result']['file_path']}")).content


async def test_a_qr_attachment_arrives_as_a_photo_of_the_link(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    link = "https://t.me/sandbox_bot?start=team_repair"
    row = await outbox.send(alice, method="sendPhoto", caption="Join", attachment=to_payload(QrCode(link, "team.png")))

    await outbox.drain(make_sender())

    assert (await outbox.row(row)).status == "sent"
    photo = (await sandbox.chat(alice)).bot_messages[-1]
    assert photo.kind == "photo" and photo.text == "Join"
    assert decode_qr(await _photo_bytes(server, photo.extra["photo"][-1]["file_id"])) == link


async def test_a_data_file_arrives_as_the_document_its_row_holds(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    content = '{"request": 7, "events": [{"event": "created", "by": "resident"}]}'
    row = await outbox.send(alice, method="sendDocument", caption="History",
                            attachment=to_payload(DataFile("request-7-history.json", content)))

    await outbox.drain(make_sender())

    assert (await outbox.row(row)).status == "sent"
    document = (await sandbox.chat(alice)).bot_messages[-1]
    assert document.kind == "document" and document.extra["document"]["file_name"] == "request-7-history.json"
    assert await _photo_bytes(server, document.extra["document"]["file_id"]) == content.encode()


async def test_a_chat_menu_is_set_without_a_chat_id_parameter(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    commands = [{"command": "team", "description": "My team"}]
    await outbox.send(alice, method="setMyCommands", commands=commands, scope={"type": "chat", "chat_id": alice})

    await outbox.drain(make_sender())

    calls = [c for c in await sandbox.calls("setMyCommands")]
    assert len(calls) == 1 and "chat_id" not in calls[0]["params"]
    assert [c["command"] for c in server.world.commands[(f"chat:{alice}", "")]] == ["team"]


async def test_an_attachment_that_cannot_be_made_fails_its_row_and_the_chat_moves_on(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    broken = await outbox.send(alice, method="sendDocument", attachment={"kind": "nonsense", "field": "document"})
    after = await outbox.send(alice, "next")

    await outbox.drain(make_sender(max_attempts=2))

    rows = {row.id: row for row in await outbox.rows()}
    assert (rows[broken].status, rows[broken].attempts) == ("failed", 2)
    assert rows[after].status == "sent"
    assert await bot_texts(sandbox, alice) == ["next"]
