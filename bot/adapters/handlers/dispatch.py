"""Coordinators: dispatch buttons, rejection with a reason, Listen (a voice note), /orders and /dispatch."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.arguments import database_id
from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services import dispatch
from bot.services.context import ServiceContext
from bot.views import callbacks as cb
from bot.views.centre import REJECT_REASONS


async def dispatch_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    team = await dispatch.dispatch(ctx, button.int_arg(0), button.int_arg(1))
    return ctx.tell.tr(ctx.user)(N_("Sent to {team}."), team=team.name)


async def reject_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await dispatch.ask_reject_reason(ctx, button.int_arg(0))
    return ctx.tell.tr(ctx.user)(N_("I asked you for the reason in our private chat."))


async def reject_reason_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    if button.str_arg(1) not in REJECT_REASONS:  # a reason's code is one of ours; typed reasons come as text
        raise InvalidInput(N_("Please choose one of the buttons."))
    await dispatch.reject(ctx, button.int_arg(0), button.str_arg(1))
    return None


async def listen_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await dispatch.listen(ctx, button.int_arg(0))
    return ctx.tell.tr(ctx.user)(N_("I sent the voice note to our private chat."))


CALLBACKS = {cb.DISPATCH: dispatch_button, cb.REJECT: reject_button, cb.REJECT_REASON: reject_reason_button,
             cb.LISTEN: listen_button}


async def on_orders(update: Update, context: BotContext) -> None:
    chat_id = update.effective_chat.id if update.effective_chat else 0
    await run(update, context, lambda ctx: dispatch.list_open(ctx, chat_id))


async def on_dispatch(update: Update, context: BotContext) -> None:
    args = context.args or []

    async def act(ctx: ServiceContext) -> None:
        number = database_id(args[0]) if len(args) == 2 else None
        if number is None:
            raise InvalidInput(N_("Usage: /dispatch NUMBER TEAM_CODE"))
        await dispatch.dispatch(ctx, number, args[1])

    await run(update, context, act)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("orders", on_orders), group=FLOWS)
    application.add_handler(CommandHandler("dispatch", on_dispatch), group=FLOWS)
