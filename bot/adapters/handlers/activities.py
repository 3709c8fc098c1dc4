"""Team activities: ``/activities`` (the 📅 Activities button is :mod:`bot.adapters.handlers.menu`'s),
Sign up and Cancel on the cards, the creation dialog's buttons, a leader's change and cancel.
Typed answers reach the dialog through free input (:mod:`bot.services.dialogs`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import activities, activity_dialog
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_activities(update: Update, context: BotContext) -> None:
    await run(update, context, activities.overview)


async def sign_up(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await activities.sign_up(ctx, button.int_arg(0))


async def withdraw(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await activities.withdraw(ctx, button.int_arg(0))


async def new(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activity_dialog.begin(ctx)
    return None


async def team(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activity_dialog.choose_team(ctx, button.int_arg(0))
    return None


async def pick(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activity_dialog.pick(ctx, button.str_arg(0), button.str_arg(1))
    return None


async def also(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activity_dialog.toggle_also(ctx, button.int_arg(0))
    return None


async def publish(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activity_dialog.publish(ctx)
    return None


async def abort(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    return await activity_dialog.abort(ctx)


async def manage(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activities.show_manage(ctx, button.int_arg(0))
    return None


async def change(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activities.ask_change(ctx, button.int_arg(0), button.str_arg(1))
    return None


async def ask_cancel(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activities.ask_cancel(ctx, button.int_arg(0))
    return None


async def cancel(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await activities.cancel(ctx, button.int_arg(0))
    return None


CALLBACKS = {cb.ACT_SIGN_UP: sign_up, cb.ACT_WITHDRAW: withdraw, cb.ACT_NEW: new, cb.ACT_TEAM: team,
             cb.ACT_PICK: pick, cb.ACT_ALSO: also, cb.ACT_PUBLISH: publish, cb.ACT_ABORT: abort,
             cb.ACT_MANAGE: manage, cb.ACT_CHANGE: change, cb.ACT_CANCEL: ask_cancel, cb.ACT_CANCEL_SURE: cancel}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("activities", on_activities, filters=filters.ChatType.PRIVATE),
                            group=FLOWS)
