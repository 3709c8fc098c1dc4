"""Updates no flow can act on are set aside before any flow sees them: one without a sender (a
channel post, or a forged or malformed update: Telegram gives every message in a private chat or a
group a ``from``), or a tap on no message (an inline message; this bot sends none)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from ..context import BotContext

log = logging.getLogger(__name__)


async def set_aside(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if update.effective_user is not None and (query is None or query.message is not None):
        return
    log.warning("update %s has no sender or no message to act on; ignored", update.update_id)
    if query is not None and update.effective_user is not None:
        with contextlib.suppress(TelegramError):  # a tap is answered, or the button spins
            await query.answer()
    raise ApplicationHandlerStop


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, set_aside), group=-1)  # type: ignore[arg-type]
