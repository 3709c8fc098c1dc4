"""The resident's request dialog, /my and cancelling a request."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.i18n import N_
from bot.services import request
from bot.services.context import Call
from bot.views import callbacks as cb
from bot.views.notifier import MENU_MY_ORDERS, MENU_NEW_REQUEST


async def on_request(update: Update, context: BotContext) -> None:
    await run(update, context, request.begin)


async def on_my(update: Update, context: BotContext) -> None:
    await run(update, context, request.list_mine)


async def category(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.choose_category(call, button.str_arg(0))
    return None


async def when(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.choose_when(call, button.str_arg(0))
    return None


async def confirm(call: Call, button: cb.Button, update: Update) -> str | None:
    number = await request.confirm(call)
    return call.notify.tr(call.user)(N_("Request #{number} sent."), number=number)


async def edit(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.edit(call)
    return None


async def edit_field(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.edit_field(call, button.str_arg(0))
    return None


async def abort(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.abandon(call)
    return None


async def cancel_order(call: Call, button: cb.Button, update: Update) -> str | None:
    await request.cancel(call, button.int_arg(0))
    return None


CALLBACKS = {cb.CATEGORY: category, cb.WHEN: when, cb.CONFIRM: confirm, cb.EDIT: edit,
             cb.EDIT_FIELD: edit_field, cb.ABORT: abort, cb.CANCEL_ORDER: cancel_order}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    i18n = application.bot_data.deps.i18n
    application.add_handler(CommandHandler("request", on_request, filters=private))
    application.add_handler(MessageHandler(private & filters.Text(list(i18n.all_translations(MENU_NEW_REQUEST))),
                                           on_request))
    application.add_handler(CommandHandler("my", on_my, filters=private))
    application.add_handler(MessageHandler(private & filters.Text(list(i18n.all_translations(MENU_MY_ORDERS))), on_my))
