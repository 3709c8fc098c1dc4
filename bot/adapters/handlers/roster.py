"""A coordinator's roster file sent to the bot is imported; ``/roster`` sends the roster back.

The import writes in batches, each its own transaction, and is idempotent (importing the same file
again changes nothing), so it runs outside the update's unit of work: a delivery that comes again
after a crash imports again harmlessly, and only the report is de-duplicated by the update id.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FLOWS
from bot.services import roster_chat
from bot.services.context import ServiceContext
from bot.services.roster import RosterFileError, import_roster


async def on_roster_file(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    file_name = Path(document.file_name or "roster").name
    checked = await run(update, context, lambda ctx: _check(ctx, file_name, document.file_size), dedupe=False)
    if not checked.ok:
        return
    deps = context.deps
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name
        telegram_file = await context.bot.get_file(document.file_id)
        await telegram_file.download_to_drive(path)
        try:
            report = await import_roster(deps.uow, path, skills=deps.config.categories)
        except RosterFileError as error:
            refused = error
            await run(update, context, lambda ctx: roster_chat.unreadable(ctx, file_name, refused))
            return
    await run(update, context, lambda ctx: roster_chat.imported(ctx, file_name, report))


async def _check(ctx: ServiceContext, file_name: str, size: int | None) -> None:
    roster_chat.check_upload(ctx, file_name, size)


async def on_roster(update: Update, context: BotContext) -> None:
    args = context.args or []
    await run(update, context, lambda ctx: roster_chat.export(ctx, args[0] if args else "xlsx"))


CALLBACKS: dict[str, Any] = {}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.Document.ALL, on_roster_file), group=FLOWS)
    application.add_handler(CommandHandler("roster", on_roster, filters=private), group=FLOWS)
