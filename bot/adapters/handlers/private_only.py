"""Commands that work only in a private chat, sent in a group, are answered there instead of
ignored: which ones is read from the handlers the flows registered (a command whose every handler
is limited to private chats), so a new private command is covered without a list to keep."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import privately


def private_only_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> list[str]:
    """The commands the flows registered only for private chats (none of their handlers takes a group)."""
    private: set[str] = set()
    anywhere: set[str] = set()
    for handler in application.handlers.get(FLOWS, []):
        if isinstance(handler, CommandHandler) and handler.callback is not on_private_only:
            (private if handler.filters is filters.ChatType.PRIVATE else anywhere).update(handler.commands)
    return sorted(private - anywhere)


async def on_private_only(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    await run(update, context, lambda ctx: privately.only_in_private(ctx, chat.id, command))


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """After every flow's commands (PTB runs the first matching handler of a group)."""
    application.add_handler(CommandHandler(private_only_commands(application), on_private_only,
                                           filters=filters.ChatType.GROUPS), group=FLOWS)
