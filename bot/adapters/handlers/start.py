"""/start and /language: greeting, menu keyboard, language switch (/help: handlers.menu)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.links import ACTIVITY, BUILDING, PAY, parse_start
from bot.services import attendance, buildings, people, points, teams
from bot.services.context import ServiceContext
from bot.views import callbacks as cb
from bot.views.common import MENU_LANGUAGE


async def on_start(update: Update, context: BotContext) -> None:
    """``/start``, or ``/start <payload>`` from a team's or a building's join link or an activity's
    check-in QR code."""
    target = parse_start(context.args[0] if context.args else None)
    if target is None:
        await run(update, context, people.welcome)
    elif target.kind == ACTIVITY:
        await run(update, context, lambda ctx: attendance.arrive_by_link(ctx, target.code))
    elif target.kind == PAY:
        await run(update, context, lambda ctx: points.arrive_by_link(ctx, target.code))
    elif target.kind == BUILDING:
        await run(update, context, lambda ctx: buildings.arrived_through(ctx, target.code))
    else:
        await run(update, context, lambda ctx: teams.join_through_link(ctx, target.code))


async def on_language(update: Update, context: BotContext) -> None:
    await run(update, context, people.offer_languages)


async def choose_language(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await people.set_language(ctx, button.str_arg(0))
    return None


CALLBACKS = {cb.LANGUAGE: choose_language}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", on_start, filters=private), group=FLOWS)
    application.add_handler(CommandHandler("language", on_language, filters=private), group=FLOWS)
    i18n = application.bot_data.deps.i18n
    application.add_handler(MessageHandler(private & filters.Text(list(i18n.all_translations(MENU_LANGUAGE))),
                                           on_language), group=FLOWS)

