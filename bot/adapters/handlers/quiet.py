"""``/quiet``: a person's quiet hours."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import quiet


async def on_quiet(update: Update, context: BotContext) -> None:
    text = " ".join(context.args or [])
    await run(update, context, lambda ctx: quiet.set_quiet_hours(ctx, text))


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("quiet", on_quiet, filters=filters.ChatType.PRIVATE), group=FLOWS)
