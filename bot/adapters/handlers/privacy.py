"""``/mydata`` and ``/forget`` (also buttons behind More), private chats only, and the ✅/❌ of
``/forget``'s question (:mod:`bot.services.privacy`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import privacy
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_mydata(update: Update, context: BotContext) -> None:
    await run(update, context, privacy.show)


async def on_forget(update: Update, context: BotContext) -> None:
    await run(update, context, privacy.ask_to_forget)


async def forget_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    message = update.effective_message
    if message is None or message.chat.id != ctx.user.telegram_id:  # only in the person's own chat
        return None
    await privacy.answer(ctx, button.int_arg(0), button.str_arg(1) == "1")
    return None


CALLBACKS = {cb.FORGET: forget_button}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("mydata", on_mydata, filters=private), group=FLOWS)
    application.add_handler(CommandHandler("forget", on_forget, filters=private), group=FLOWS)
