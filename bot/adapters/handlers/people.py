"""People: /coordinator, the coordinators' approvals of volunteers, /onduty, /offduty and /find."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import named_person, run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.errors import InvalidInput
from bot.i18n import N_
from bot.services import people
from bot.services.context import ServiceContext
from bot.views import callbacks as cb

COORDINATOR_USAGE = N_("Usage: /coordinator add|remove USER_ID (or reply to their message)")


async def on_coordinator(update: Update, context: BotContext) -> None:
    """``/coordinator add|remove`` replying to someone's message, or with their user id."""
    args = context.args or []

    async def act(ctx: ServiceContext) -> None:
        ctx.require_admin()
        if not args or args[0] not in ("add", "remove"):
            raise InvalidInput(COORDINATOR_USAGE)
        target_id, name = named_person(update, args[1:], COORDINATOR_USAGE)
        await people.set_coordinator(ctx, target_id, name, args[0] == "add")

    await run(update, context, act)


async def approve(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    name = await people.decide_volunteer(ctx, button.int_arg(0), True)
    return ctx.tell.tr(ctx.user)(N_("{name} approved."), name=name)


async def deny(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    name = await people.decide_volunteer(ctx, button.int_arg(0), False)
    return ctx.tell.tr(ctx.user)(N_("{name} denied."), name=name)


async def on_duty(update: Update, context: BotContext) -> None:
    await run(update, context, lambda ctx: people.set_duty(ctx, True))


async def off_duty(update: Update, context: BotContext) -> None:
    await run(update, context, lambda ctx: people.set_duty(ctx, False))


async def on_find(update: Update, context: BotContext) -> None:
    """``/find SKILL [COMMUNITY]``."""
    args = context.args or []
    chat_id = update.effective_chat.id if update.effective_chat else None

    async def act(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        if not args:
            raise InvalidInput(N_("Usage: /find SKILL [COMMUNITY]"))
        await people.find_volunteers(ctx, args[0], " ".join(args[1:]) or None, chat_id)

    await run(update, context, act)


CALLBACKS = {cb.APPROVE: approve, cb.DENY: deny}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("coordinator", on_coordinator), group=FLOWS)
    application.add_handler(CommandHandler("onduty", on_duty, filters=filters.ChatType.PRIVATE), group=FLOWS)
    application.add_handler(CommandHandler("offduty", off_duty, filters=filters.ChatType.PRIVATE), group=FLOWS)
    application.add_handler(CommandHandler("find", on_find), group=FLOWS)  # from a group: answered privately
