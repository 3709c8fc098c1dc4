"""Bugs the fuzzer found outside the other engineers' areas, one regression test each."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import SandboxClient, SandboxServer

from ..e2e.harness import bot_running, make_settings
from .invariants import ErrorRecords


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_updates_without_a_sender_or_a_message_are_set_aside(server: SandboxServer, sandbox: SandboxClient,
                                                                   database_url: str, mode: str) -> None:
    """A message or a tap without ``from`` (or a tap on no message) raised AssertionError in the
    handlers, logged as an unhandled error; now each is acknowledged quietly and the bot goes on."""
    rita = await sandbox.create_user("Rita")
    person: dict[str, Any] = {"id": rita.id, "is_bot": False, "first_name": "Rita"}
    chat = {"id": rita.id, "type": "private", "first_name": "Rita"}
    forged = [
        ("message", {"message_id": 1, "date": 0, "chat": chat, "text": "/start",
                     "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}),
        ("message", {"message_id": 2, "date": 0, "chat": chat, "text": "3栋2单元"}),
        ("callback_query", {"id": "1", "chat_instance": "1", "data": "acc:1"}),
        ("callback_query", {"id": "2", "from": person, "chat_instance": "1", "data": "acc:1"}),
        ("channel_post", {"message_id": 3, "date": 0, "chat": {"id": -100123, "type": "channel", "title": "News"},
                          "text": "/orders", "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}),
    ]
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language="en")
    with ErrorRecords().installed() as errors:
        async with bot_running(settings, mode):
            for kind, payload in forged:
                update_id = await sandbox.inject(kind, payload)
                assert update_id is not None and await sandbox.acknowledged(update_id, timeout=10.0), kind
            await rita.start()
            assert "Hello Rita" in ((await rita.next_message()).text or "")
    assert errors.take() == []


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_updates_with_ids_telegram_never_gives_are_set_aside(server: SandboxServer, sandbox: SandboxClient,
                                                                   database_url: str, mode: str) -> None:
    """Malformed updates the library still parses — a chat or sender id beyond Telegram's 52 bits
    (OverflowError in the database), a membership change without its old state (AttributeError in
    the team handler) — were parked and logged as errors; now each is set aside quietly."""
    rita = await sandbox.create_user("Rita")
    huge = 2 ** 63
    person: dict[str, Any] = {"id": rita.id, "is_bot": False, "first_name": "Rita"}
    member = {"status": "member", "user": person}
    forged = [
        ("message", {"message_id": 1, "date": 0, "chat": {"id": huge, "type": "private", "first_name": "R"},
                     "from": person, "text": "hello"}),
        ("message", {"message_id": 2, "date": 0, "chat": {"id": rita.id, "type": "private", "first_name": "R"},
                     "from": {**person, "id": -huge}, "text": "hello"}),
        ("callback_query", {"id": "3", "from": {**person, "id": huge}, "chat_instance": "1", "data": "acc:1",
                            "message": {"message_id": 3, "date": 0, "chat": {"id": rita.id, "type": "private"}}}),
        ("chat_member", {"chat": {"id": -100123, "type": "supergroup", "title": "Team"}, "from": person, "date": 0,
                         "new_chat_member": {**member, "status": "left"}}),
        ("chat_member", {"chat": {"id": -100123, "type": "supergroup", "title": "Team"}, "from": person, "date": 0,
                         "old_chat_member": {"status": "member"}, "new_chat_member": {"status": "left"}}),
    ]
    settings = make_settings(server, database_url, admins=[], coordinators_chat_id=None, default_language="en")
    with ErrorRecords().installed() as errors:
        async with bot_running(settings, mode):
            for kind, payload in forged:
                update_id = await sandbox.inject(kind, payload)
                assert update_id is not None and await sandbox.acknowledged(update_id, timeout=10.0), kind
            await rita.start()
            assert "Hello Rita" in ((await rita.next_message()).text or "")
    assert errors.take() == []
