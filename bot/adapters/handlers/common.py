"""The one path from an update to a service: a unit of work keyed by the update (so a duplicate
delivery does nothing), the actor's user row, the service ctx, and a translated refusal when
the service says no."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

from bot.adapters.context import BotContext
from bot.domain.arguments import telegram_id
from bot.domain.errors import DomainError, InvalidInput
from bot.i18n import language_of
from bot.services.context import ServiceContext
from storage.uow import DuplicateUpdate

log = logging.getLogger(__name__)
T = TypeVar("T")
Action = Callable[[ServiceContext], Awaitable[T]]


class Handled:
    """What happened to an update: the service result, a refusal text, or a duplicate."""

    def __init__(self, result: object = None, refusal: str | None = None, duplicate: bool = False) -> None:
        self.result = result
        self.refusal = refusal
        self.duplicate = duplicate

    @property
    def ok(self) -> bool:
        return self.refusal is None and not self.duplicate


async def run(update: Update, context: BotContext, action: Action[object], *,
              refuse_in_chat: bool = True, dedupe: bool = True) -> Handled:
    """Run ``action`` for this update in one unit of work.

    A :class:`DomainError` rolls the work back; its message is translated for the actor and, with
    ``refuse_in_chat``, queued to the chat the update came from (buttons answer it as an alert).
    """
    deps = context.deps
    actor = update.effective_user
    assert actor is not None
    key = f"u:{update.update_id}" if dedupe else None  # without: a step that may safely run twice
    language_hint = language_of(actor.language_code, deps.config.default_language)
    try:
        try:
            async with deps.uow(update_key=key) as uow:
                user = await uow.users.ensure(actor.id, actor.first_name, language_hint)
                return Handled(result=await action(deps.service_context(uow, user)))
        except DomainError as error:
            return await _refuse(update, context, key, error, refuse_in_chat, language_hint)
    except DuplicateUpdate:
        log.info("update %s already handled; ignored", update.update_id)
        return Handled(duplicate=True)


def named_person(update: Update, args: list[str], usage: str) -> tuple[int, str]:
    """The person a command names — by replying to their message, or by their numeric user id as
    the last argument (a Telegram user id, read strictly) — as (user id, first name or "");
    InvalidInput(``usage``) otherwise."""
    message = update.effective_message
    replied = message.reply_to_message.from_user if message and message.reply_to_message else None
    if replied is not None and not replied.is_bot:
        return replied.id, replied.first_name
    target = telegram_id(args[-1]) if args else None
    if target is not None:
        return target, ""
    raise InvalidInput(usage)


async def _refuse(update: Update, context: BotContext, key: str | None, error: DomainError, in_chat: bool,
                  language_hint: str) -> Handled:
    deps = context.deps
    actor = update.effective_user
    chat = update.effective_chat
    assert actor is not None
    async with deps.uow(update_key=key) as uow:
        user = await uow.users.ensure(actor.id, actor.first_name, language_hint)
        tell = deps.tell(uow)
        text = tell.tr(user)(error.message, **error.params)
        if in_chat and chat is not None:
            await tell.refuse(chat.id, user if chat.type == "private" else None, error.message, **error.params)
        await uow.commit()
    return Handled(refusal=text)
