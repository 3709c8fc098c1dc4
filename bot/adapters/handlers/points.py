"""Points and the order's history: ``/points`` (a volunteer's balance and code), ``/redemptions
[YYYY-MM]`` and ``/history N`` (coordinators), and the business's buttons. Thin: every check is
the service's. The QR code arrives through ``/start pay_<code>`` (handlers.start) and a typed code
as free input (handlers.private_input)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services import history, points
from bot.services.context import ServiceContext
from bot.views import callbacks as cb

HISTORY_USAGE = N_("Usage: /history REQUEST_NUMBER, e.g. /history 42")


async def on_points(update: Update, context: BotContext) -> None:
    await run(update, context, points.show)


async def on_redemptions(update: Update, context: BotContext) -> None:
    month = context.args[0] if context.args else None
    chat = update.effective_chat.id if update.effective_chat else None
    await run(update, context, lambda ctx: points.per_business(ctx, month, chat))


async def on_history(update: Update, context: BotContext) -> None:
    async def action(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        words = context.args or []
        number = words[0].lstrip("#") if len(words) == 1 else ""
        if not number.isdigit() or len(number) > 9:
            raise InvalidInput(HISTORY_USAGE)
        await history.show(ctx, int(number), update.effective_chat.id if update.effective_chat else None)

    await run(update, context, action)


async def amount(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await points.choose_amount(ctx, button.int_arg(0), button.int_arg(1))
    return None


async def confirm(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await points.confirm(ctx, button.int_arg(0), button.int_arg(1))
    return None


async def cancel(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await points.cancel(ctx)
    return None


async def show_history(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    chat = update.effective_chat.id if update.effective_chat else None
    await history.show(ctx, button.int_arg(0), chat)
    return None


async def export_history(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    chat = update.effective_chat.id if update.effective_chat else None
    await history.export(ctx, button.int_arg(0), chat)
    return None


CALLBACKS = {cb.PAY_AMOUNT: amount, cb.PAY_OK: confirm, cb.PAY_NO: cancel, cb.HISTORY: show_history,
             cb.HISTORY_EXPORT: export_history}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("points", on_points, filters=private), group=FLOWS)
    application.add_handler(CommandHandler("redemptions", on_redemptions), group=FLOWS)
    application.add_handler(CommandHandler("history", on_history), group=FLOWS)
