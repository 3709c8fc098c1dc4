"""The resident's request dialog, /my and cancelling a request."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.i18n import N_
from bot.services import request
from bot.services.context import ServiceContext
from bot.views import callbacks as cb
from bot.views.common import MENU_MY_ORDERS, MENU_NEW_REQUEST


async def on_request(update: Update, context: BotContext) -> None:
    await run(update, context, request.begin)


async def on_my(update: Update, context: BotContext) -> None:
    await run(update, context, request.list_mine)


async def category(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.choose_category(ctx, button.int_arg(0), button.str_arg(1))
    return None


async def when(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.other_time(ctx, button.int_arg(0))
    return None


async def other_address(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.other_address(ctx, button.int_arg(0))
    return None


async def confirm(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    number = await request.confirm(ctx, button.int_arg(0), button.str_arg(1))
    return ctx.tell.tr(ctx.user)(N_("Request #{number} sent."), number=number)


async def edit(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.edit(ctx, button.int_arg(0))
    return None


async def edit_field(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.edit_field(ctx, button.int_arg(0), button.str_arg(1))
    return None


async def abort(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.abandon(ctx, button.int_arg(0))
    return None


async def cancel_order(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await request.cancel(ctx, button.int_arg(0))
    return None


CALLBACKS = {cb.CATEGORY: category, cb.WHEN: when, cb.OTHER_ADDRESS: other_address, cb.CONFIRM: confirm,
             cb.EDIT: edit, cb.EDIT_FIELD: edit_field, cb.ABORT: abort, cb.CANCEL_ORDER: cancel_order}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    i18n = application.bot_data.deps.i18n
    application.add_handler(CommandHandler("request", on_request, filters=private), group=FLOWS)
    application.add_handler(MessageHandler(private & filters.Text(list(i18n.all_translations(MENU_NEW_REQUEST))),
                                           on_request), group=FLOWS)
    application.add_handler(CommandHandler("my", on_my, filters=private), group=FLOWS)
    application.add_handler(MessageHandler(private & filters.Text(list(i18n.all_translations(MENU_MY_ORDERS))), on_my),
                            group=FLOWS)
