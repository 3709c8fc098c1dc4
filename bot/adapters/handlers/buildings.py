"""``/building …`` (coordinators, building leaders) and ``/neighbour`` (a request for a neighbour)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import named_person, run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.errors import InvalidInput
from bot.services import buildings
from bot.services.context import ServiceContext
from bot.views.lists import BUILDING_USAGE


async def on_building(update: Update, context: BotContext) -> None:
    args = context.args or []
    verb, rest = (args[0].lower(), args[1:]) if args else ("", [])
    chat_id = update.effective_chat.id if update.effective_chat else None

    async def act(ctx: ServiceContext) -> None:
        if not args:
            await buildings.overview(ctx, chat_id)
        elif verb == "link" and len(rest) <= 1:
            await buildings.send_link(ctx, rest[0] if rest else None)
        else:
            ctx.require_coordinator()
            if verb == "add" and len(rest) >= 3:
                await buildings.add(ctx, rest[0], rest[1], " ".join(rest[2:]))
            elif verb in ("leader", "unleader") and rest:
                await buildings.appoint_leader(ctx, rest[0], named_person(update, rest[1:], BUILDING_USAGE)[0],
                                               verb == "leader")
            else:
                raise InvalidInput(BUILDING_USAGE)

    await run(update, context, act)


async def on_neighbour(update: Update, context: BotContext) -> None:
    args = context.args or []
    await run(update, context, lambda ctx: buildings.begin_for_neighbour(ctx, args[0] if args else None))


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # /building lists from a group: answered privately
    application.add_handler(CommandHandler("building", on_building), group=FLOWS)
    application.add_handler(CommandHandler("neighbour", on_neighbour, filters=filters.ChatType.PRIVATE), group=FLOWS)
