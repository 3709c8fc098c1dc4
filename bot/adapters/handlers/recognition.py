"""Recognition (典型推介): a coordinator's ``/stars`` and the ✅ Approve / ✖️ Skip buttons of a
nomination. Thin: the nomination's id is all a button carries; every check is the service's
(:mod:`bot.services.recognition`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import recognition
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_stars(update: Update, context: BotContext) -> None:
    await run(update, context, recognition.show)


async def approve_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await recognition.approve(ctx, button.int_arg(0))


async def skip_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await recognition.skip(ctx, button.int_arg(0))


CALLBACKS = {cb.NOMINATION_APPROVE: approve_button, cb.NOMINATION_SKIP: skip_button}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("stars", on_stars, filters=filters.ChatType.PRIVATE), group=FLOWS)
