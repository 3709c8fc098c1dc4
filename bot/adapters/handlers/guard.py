"""Updates no flow can act on are set aside before any flow sees them: one without a sender (a
channel post, or a forged or malformed update: Telegram gives every message in a private chat or a
group a ``from``), a tap on no message (an inline message; this bot sends none), ids Telegram never
gives (user and chat ids have at most 52 significant bits), or a membership change without both
of its states."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.adapters.context import BotContext
from bot.adapters.handlers.handler_groups import GUARD

log = logging.getLogger(__name__)


TELEGRAM_ID_LIMIT = 2 ** 52  # "at most 52 significant bits" (Bot API, User.id and Chat.id)


def _telegram_id(value: object) -> bool:
    return type(value) is int and 0 < abs(value) < TELEGRAM_ID_LIMIT


def can_act_on(update: Update) -> bool:
    """Whether a flow could act on ``update`` as Telegram would send it."""
    query, change = update.callback_query, update.chat_member or update.my_chat_member
    user, chat = update.effective_user, update.effective_chat
    return (user is not None and _telegram_id(user.id) and (chat is None or _telegram_id(chat.id))
            and (query is None or query.message is not None)
            and (change is None or (change.old_chat_member is not None and change.new_chat_member is not None
                                    and change.new_chat_member.user is not None)))


async def set_aside(update: Update, context: BotContext) -> None:
    if can_act_on(update):
        return
    query = update.callback_query
    log.warning("update %s has no sender, ids Telegram never gives or nothing to act on; ignored",
                update.update_id)
    if query is not None and update.effective_user is not None and _telegram_id(update.effective_user.id) \
            and context.bot_data.answered.claim(query.id):
        with contextlib.suppress(TelegramError):  # a tap is answered, or the button spins
            await query.answer()
    raise ApplicationHandlerStop


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    # Its own group, before every other: one handler runs per group, and this one matches everything.
    application.add_handler(TypeHandler(Update, set_aside), group=GUARD)
