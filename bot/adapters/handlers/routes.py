"""Coordinators' routing rules: ``/routes`` and its buttons (add: kind of help, community, team;
delete). Every step is re-checked by bot.services.routing."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.i18n import N_
from bot.services import routing
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


def _chat(update: Update) -> int | None:
    query = update.callback_query
    message = query.message if query is not None else update.effective_message
    return message.chat.id if message is not None else None


async def add_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await routing.ask_category(ctx, _chat(update))
    return None


async def category_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await routing.ask_community(ctx, _chat(update), button.str_arg(0))
    return None


async def community_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await routing.ask_team(ctx, _chat(update), button.str_arg(0), button.int_arg(1))
    return None


async def team_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await routing.add_rule(ctx, _chat(update), button.str_arg(0), button.int_arg(1), button.int_arg(2))
    return ctx.tell.tr(ctx.user)(N_("Rule saved."))


async def delete_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await routing.delete_rule(ctx, _chat(update), button.int_arg(0))
    return ctx.tell.tr(ctx.user)(N_("Rule deleted."))


CALLBACKS = {cb.ROUTE_ADD: add_button, cb.ROUTE_CATEGORY: category_button, cb.ROUTE_COMMUNITY: community_button,
             cb.ROUTE_TEAM: team_button, cb.ROUTE_DELETE: delete_button}


async def on_routes(update: Update, context: BotContext) -> None:
    chat_id = update.effective_chat.id if update.effective_chat else None
    await run(update, context, lambda ctx: routing.show_rules(ctx, chat_id))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("routes", on_routes), group=FLOWS)
