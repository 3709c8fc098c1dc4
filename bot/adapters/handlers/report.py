"""``/report`` and its buttons (period, then place), and a coordinator's ``/households``. Thin:
every check is the service's (:mod:`bot.services.report`, :mod:`bot.services.measures`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import report
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_report(update: Update, context: BotContext) -> None:
    await run(update, context, report.offer)


async def on_households(update: Update, context: BotContext) -> None:
    """``/households`` alone: the figures and how to set one; ``/households CODE-OR-COMMUNITY N``."""
    words = context.args or []
    if len(words) < 2:
        await run(update, context, report.households_help)
        return
    await run(update, context, lambda ctx: report.households(ctx, " ".join(words[:-1]), words[-1]))


async def period_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await report.period_chosen(ctx, button.str_arg(0))
    return None


async def place_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await report.place_chosen(ctx, button.str_arg(0), button.str_arg(1), button.int_arg(2))
    return None


CALLBACKS = {cb.REPORT_PERIOD: period_button, cb.REPORT_PLACE: place_button}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    for command, handler in (("report", on_report), ("households", on_households)):
        application.add_handler(CommandHandler(command, handler, filters=private), group=FLOWS)
