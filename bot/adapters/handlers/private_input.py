"""Free input in a private chat — text, a voice note, a photo or a contact — goes to the open dialog;
with no dialog open, an activity's check-in code checks the person in or out
(:mod:`bot.services.attendance`), other text, voice notes and photos are offered as a request
(:mod:`bot.services.offer`), and anything else gets the greeting and menu again."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.adapters.context import BotContext
from bot.adapters.handlers.common import run
from bot.adapters.handlers.handler_groups import FREE_INPUT
from bot.domain.errors import InvalidInput
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import attendance, dialogs, offer, people, points
from bot.services.context import ServiceContext


def read_input(update: Update) -> Input:
    message = update.effective_message
    assert message is not None
    if message.contact is not None:
        own = message.contact.user_id == (update.effective_user.id if update.effective_user else None)
        return Input(contact_phone=message.contact.phone_number,
                     contact_name=message.contact.first_name if not own or message.contact.first_name else None,
                     contact_own=own)
    if message.voice is not None:
        return Input(voice_file_id=message.voice.file_id)
    if message.photo:  # the largest size; a caption reads as text
        return Input(photo_file_id=message.photo[-1].file_id, text=message.caption)
    return Input(text=message.text)


async def on_input(update: Update, context: BotContext) -> None:
    inp = read_input(update)

    async def route(ctx: ServiceContext) -> None:
        if await dialogs.handle_input(ctx, inp):
            return
        if inp.text and await points.arrive_by_text(ctx, inp.text):
            return
        if inp.text and await attendance.arrive_by_text(ctx, inp.text):
            return
        if inp.voice_file_id or inp.photo_file_id or (inp.text and inp.text.strip()):
            await offer.offer(ctx, inp)
        else:
            await people.welcome(ctx)

    await run(update, context, route)


async def on_unusable(update: Update, context: BotContext) -> None:
    """A sticker, a video or an unknown command: say what works instead of staying silent."""
    message = update.effective_message
    unknown_command = bool(message and message.text and message.text.startswith("/"))

    async def explain(ctx: ServiceContext) -> None:
        if unknown_command:
            raise InvalidInput(N_("I do not know that command. Tap a button below, or send /help."))
        raise InvalidInput(N_("I can read text messages, voice notes, photos and shared contacts only."))

    await run(update, context, explain)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    usable = (filters.TEXT & ~filters.COMMAND) | filters.VOICE | filters.PHOTO | filters.CONTACT
    application.add_handler(MessageHandler(private & usable, on_input), group=FREE_INPUT)
    application.add_handler(MessageHandler(private & ~usable & ~filters.StatusUpdate.ALL, on_unusable),
                            group=FREE_INPUT)
