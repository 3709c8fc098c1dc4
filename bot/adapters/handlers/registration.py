"""Volunteer registration and profile: /join, /profile and their buttons (the typed answers reach
:mod:`bot.services.registration` through the dialog router)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import registration
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def on_join(update: Update, context: BotContext) -> None:
    await run(update, context, registration.begin_join)


async def on_profile(update: Update, context: BotContext) -> None:
    await run(update, context, registration.show_profile)


async def pick(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await registration.pick(ctx, button.str_arg(0), button.str_arg(1))
    return None


async def done(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await registration.done(ctx, button.str_arg(0))
    return None


async def join_team(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await registration.choose_team(ctx, button.int_arg(0))
    return None


async def edit_profile(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await registration.edit_profile(ctx, button.str_arg(0))
    return None


CALLBACKS = {cb.JOIN_PICK: pick, cb.JOIN_DONE: done, cb.JOIN_TEAM: join_team, cb.PROFILE_EDIT: edit_profile}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("join", on_join, filters=private), group=FLOWS)
    application.add_handler(CommandHandler("profile", on_profile, filters=private), group=FLOWS)
