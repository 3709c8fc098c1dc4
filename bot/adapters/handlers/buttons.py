"""One entry point for every inline button: parse the callback data, answer the tap at once with
the outcome (an alert for a refusal), and never trust the data beyond what the service checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, RetryAfter
from telegram.ext import Application, CallbackQueryHandler

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import BUTTONS
from bot.adapters.sender import retry_after_seconds
from bot.i18n import N_, language_of
from bot.services.context import ServiceContext
from bot.views import callbacks as cb

log = logging.getLogger(__name__)
ButtonAction = Callable[[ServiceContext, cb.Button, Update], Awaitable[str | None]]
OUT_OF_DATE = N_("This button is out of date.")
ANSWER_RETRY_LIMIT = 5.0  # seconds; Telegram stops accepting an answer a little after that


def register(application: Application[Any, Any, Any, Any, Any, Any], actions: dict[str, ButtonAction]) -> None:
    async def on_button(update: Update, context: BotContext) -> None:
        query = update.callback_query
        assert query is not None
        parsed = cb.unpack(query.data)
        handler = actions.get(parsed.action) if parsed else None
        if parsed is None or handler is None:
            log.warning("unknown callback data from user %s", query.from_user.id)
            await _answer(context, query, _out_of_date(context, query), alert=True)
            return
        sender = context.deps.sender
        tapped_in = query.message.chat.id if query.message is not None else None
        async with sender.answering(query.from_user.id, tapped_in) if sender is not None \
                else contextlib.nullcontext():
            try:
                outcome = await run(update, context, lambda ctx: handler(ctx, parsed, update),
                                    refuse_in_chat=False)
            except (ValueError, IndexError):  # arguments that are not the ids they claim to be
                outcome = None
            if outcome is not None and outcome.duplicate:
                return  # a copy of a tap handled before: it was answered then (bot.adapters.taps)
            if outcome is None:
                await _answer(context, query, _out_of_date(context, query), alert=True)
            elif outcome.refusal:
                await _answer(context, query, outcome.refusal, alert=True)
            else:
                await _answer(context, query, outcome.result if isinstance(outcome.result, str) else None,
                              alert=False)

    application.add_handler(CallbackQueryHandler(on_button), group=BUTTONS)


def _out_of_date(context: BotContext, query: Any) -> str:
    language = language_of(query.from_user.language_code, context.deps.config.default_language)
    return context.deps.i18n.gettext(language, OUT_OF_DATE)


async def _answer(context: BotContext, query: Any, text: str | None, *, alert: bool) -> None:
    """Answer the tap. A 429 holds the outbox for the window too, and the answer is tried once
    more if the tap is still young enough for Telegram to take it. A tap answered already is not
    answered again (Telegram would refuse it)."""
    if not context.bot_data.answered.claim(query.id):
        return
    for attempt in (1, 2):
        try:
            await query.answer(text[:200] if text else None, show_alert=alert)
            return
        except BadRequest as error:  # a duplicate delivery, or a tap answered too late
            log.info("callback answer refused: %s", error.message)
            return
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if context.deps.sender is not None:
                context.deps.sender.hold_all(wait)
            if attempt == 2 or wait > ANSWER_RETRY_LIMIT:
                log.warning("callback answer dropped after 429 (retry after %.0f s)", wait)
                return
            await asyncio.sleep(wait + 0.1)
