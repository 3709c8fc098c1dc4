"""Service hours: a leader's ``/teamhours``; a coordinator's ``/hoursexport``, ``/honour``,
``/correct``, ``/ledger`` and ``/certificate``; the certificate and export buttons. Thin: the
arguments are split here and every check is the service's (:mod:`bot.services.hours`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.domain.errors import InvalidInput
from bot.services import hours
from bot.services.context import ServiceContext
from bot.views import callbacks as cb
from bot.views.hours import CORRECT_USAGE, HONOUR_USAGE, LEDGER_USAGE


def _args(context: BotContext, count: int, usage: str) -> list[str]:
    """The first ``count - 1`` words and the rest of the line as the last (a reason)."""
    words = context.args or []
    if len(words) < count:
        raise InvalidInput(usage)
    return [*words[:count - 1], " ".join(words[count - 1:])]


async def on_honour(update: Update, context: BotContext) -> None:
    async def action(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        number, amount, reason = _args(context, 3, HONOUR_USAGE)
        await hours.honour(ctx, number, amount, reason)

    await run(update, context, action)


async def on_correct(update: Update, context: BotContext) -> None:
    async def action(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        entry, amount, reason = _args(context, 3, CORRECT_USAGE)
        if not entry.lstrip("#").isdigit() or len(entry) > 12:
            raise InvalidInput(CORRECT_USAGE)
        await hours.correct(ctx, int(entry.lstrip("#")), amount, reason)

    await run(update, context, action)


async def on_ledger(update: Update, context: BotContext) -> None:
    async def action(ctx: ServiceContext) -> None:
        ctx.require_coordinator()
        (number,) = _args(context, 1, LEDGER_USAGE)
        await hours.list_entries(ctx, number)

    await run(update, context, action)


async def on_certificate(update: Update, context: BotContext) -> None:
    """``/certificate``: one's own certificate buttons; a coordinator's ``/certificate NUMBER [period]``."""
    words = context.args or []
    if not words:
        await run(update, context, hours.ask_certificate)
        return
    period = words[1] if len(words) > 1 else "year"
    await run(update, context, lambda ctx: hours.certificate(ctx, period, words[0]))


async def on_team_hours(update: Update, context: BotContext) -> None:
    await run(update, context, hours.team_view)


async def on_export(update: Update, context: BotContext) -> None:
    await run(update, context, hours.offer_export)


async def certificate_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await hours.certificate(ctx, button.str_arg(0))
    return None


async def export_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await hours.export(ctx, button.str_arg(0))
    return None


async def honour_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await hours.honour_hours_chosen(ctx, button.str_arg(0))
    return None


CALLBACKS = {cb.HOURS_CERTIFICATE: certificate_button, cb.HOURS_EXPORT: export_button, cb.HONOUR_HOURS: honour_button}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    for command, handler in (("honour", on_honour), ("correct", on_correct), ("ledger", on_ledger),
                             ("certificate", on_certificate), ("teamhours", on_team_hours),
                             ("hoursexport", on_export)):
        application.add_handler(CommandHandler(command, handler, filters=private), group=FLOWS)
