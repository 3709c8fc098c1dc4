"""Attendance at an activity: ``/checkin`` for leaders and its buttons; a volunteer's check-out
button. The QR code's deep link arrives through ``/start`` (handlers.start) and a typed code as
free input (handlers.private_input)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import attendance
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_checkin(update: Update, context: BotContext) -> None:
    await run(update, context, attendance.choose)


async def show(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await attendance.show(ctx, button.int_arg(0))
    return None


async def show_list(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await attendance.show_list(ctx, button.int_arg(0))
    return None


async def mark(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await attendance.mark_present(ctx, button.int_arg(0))


async def ask_finish(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await attendance.ask_finish(ctx, button.int_arg(0))
    return None


async def finish(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await attendance.finish_now(ctx, button.int_arg(0))
    return None


async def check_out(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await attendance.check_out(ctx, button.int_arg(0))
    return None


CALLBACKS = {cb.CHECKIN_SHOW: show, cb.CHECKIN_LIST: show_list, cb.CHECKIN_MARK: mark,
             cb.CHECKIN_FINISH: ask_finish, cb.CHECKIN_FINISH_YES: finish, cb.CHECK_OUT: check_out}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("checkin", on_checkin, filters=filters.ChatType.PRIVATE), group=FLOWS)
