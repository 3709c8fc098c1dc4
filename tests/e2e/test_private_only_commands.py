"""A command that works only in a private chat, sent in a group, is answered in the group — in
the group's language, with nobody's personal data — with a button that opens the bot's private
chat, instead of being ignored. Commands that work in groups keep working there."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.adapters.app import build_application
from bot.adapters.handlers.private_only import private_only_commands
from bot.settings import Settings
from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from tests.e2e.harness import bot_running, cast_of, make_settings, set_up_centre, tr, wait_text

LANGUAGE = "zh"
_ = tr(LANGUAGE)
NOTICE = "/{command} works only in a private chat with me. Open a chat with me and send it there."


def test_the_private_only_commands_are_read_from_the_handlers() -> None:
    application = build_application(Settings(telegram={"token": "1:x"}))
    commands = private_only_commands(application)
    assert {"quiet", "points", "onduty", "offduty", "join", "profile", "start", "my", "stars", "checkin",
            "neighbour", "activities", "roster", "report", "honour"} <= set(commands)
    assert "find" not in commands and "orders" not in commands and "link" not in commands  # these work in groups
    answering = [h for h in application.handlers[0] if isinstance(h, CommandHandler) and "quiet" in h.commands]
    assert len(answering) == 2  # the private flow's handler, then the group's answer


async def test_a_private_command_in_a_group_is_answered_with_a_link(server: SandboxServer, sandbox: SandboxClient,
                                                                     database_url: str) -> None:
    cast = await cast_of(sandbox, LANGUAGE)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language=LANGUAGE)
    async with bot_running(settings, "polling"):
        await set_up_centre(cast, LANGUAGE)
        team_chat = cast.team_group.id
        vera = cast.volunteers[0]
        await vera.skip_to_now()
        for command in ("quiet", "points", "onduty", "my"):
            await vera.send(f"/{command}@sandbox_bot", chat_id=team_chat)
            notice = await wait_text(vera, _(NOTICE, command=command), chat_id=team_chat)
            assert notice.buttons == [[{"text": _("💬 Open a private chat with me"), "url": "https://t.me/sandbox_bot"}]]
            assert vera.first_name not in (notice.text or "")
        # A command that works in a group is not answered with the notice.
        await cast.coordinator.skip_to_now()
        await cast.coordinator.send("/orders@sandbox_bot", chat_id=team_chat)
        await wait_text(cast.coordinator, _("{name}, I sent the list to our private chat.",
                                            name=cast.coordinator.first_name), chat_id=team_chat)
    texts = [m.text or "" for m in (await sandbox.chat(team_chat)).bot_messages]
    assert sum("/orders" in t for t in texts) == 0
    assert sum(t == _(NOTICE, command="quiet") for t in texts) == 1  # answered once
