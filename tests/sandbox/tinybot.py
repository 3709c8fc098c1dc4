"""A tiny PTB bot that lives in the tests: just enough behaviour to exercise every sandbox feature."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox import SandboxServer

WEBHOOK_SECRET = "tiny-bot-secret_1"
Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    payload = " ".join(context.args or [])
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share my phone", request_contact=True)], ["Help"]], resize_keyboard=True
    )
    await update.effective_message.reply_text(f"started:{payload}" if payload else "started",
                                              reply_markup=keyboard)


async def buttons(update: Update, context: Context) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="pick:yes"),
                                    InlineKeyboardButton("No", callback_data="pick:no")],
                                   [InlineKeyboardButton("Docs", url="https://example.org/docs")]])
    await update.effective_message.reply_text("Pick one", reply_markup=markup)


async def on_pick(update: Update, context: Context) -> None:
    query = update.callback_query
    choice = query.data.split(":", 1)[1]
    await query.answer(f"You chose {choice}", show_alert=choice == "no")
    await query.edit_message_text(f"Chosen: <b>{choice}</b> by {query.from_user.first_name}",
                                  parse_mode="HTML")


async def on_contact(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(f"phone:{update.effective_message.contact.phone_number}")


async def on_location(update: Update, context: Context) -> None:
    location = update.effective_message.location
    await update.effective_message.reply_text(f"location:{location.latitude:.2f},{location.longitude:.2f}")


async def on_file(update: Update, context: Context) -> None:
    message = update.effective_message
    attachment = message.voice or message.document or (message.photo[-1] if message.photo else None)
    file = await context.bot.get_file(attachment.file_id)
    data = await file.download_as_bytearray()
    await message.reply_text(f"{message.effective_attachment.__class__.__name__}:{len(data)}:{bytes(data[:4]).hex()}")


async def send_photo(update: Update, context: Context) -> None:
    await update.effective_message.reply_photo(photo=b"\x89PNG-tiny", caption="a protected photo",
                                               protect_content=True)


async def echo_voice_back(update: Update, context: Context) -> None:
    """Send a voice note back by file_id: the way a bot forwards a resident's voice note."""
    await context.bot.send_voice(update.effective_chat.id, update.effective_message.voice.file_id)


async def echo(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def on_my_member(update: Update, context: Context) -> None:
    change = update.my_chat_member
    if change.new_chat_member.status in ("member", "administrator") and change.chat.type != "private":
        await context.bot.send_message(change.chat.id, f"hello {change.chat.title}")


def build_tiny_bot(server: SandboxServer, token: str | None = None) -> Application:
    app = (ApplicationBuilder().token(token or server.token).base_url(server.bot_api_url)
           .base_file_url(server.file_url).build())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("buttons", buttons))
    app.add_handler(CommandHandler("photo", send_photo))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=r"^pick:"))
    app.add_handler(MessageHandler(filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(filters.LOCATION, on_location))
    app.add_handler(MessageHandler(filters.VOICE & filters.CaptionRegex("^back$"), echo_voice_back))
    app.add_handler(MessageHandler(filters.VOICE | filters.PHOTO | filters.Document.ALL, on_file))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(ChatMemberHandler(on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def running(app: Application, mode: str, *, secret: str = WEBHOOK_SECRET) -> AsyncIterator[Application]:
    """Run ``app`` in polling or webhook mode for the duration of the block."""
    async with app:
        await app.start()
        if mode == "polling":
            await app.updater.start_polling(poll_interval=0, timeout=2, allowed_updates=Update.ALL_TYPES)
        else:
            port = free_port()
            await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="tg",
                                            webhook_url=f"http://127.0.0.1:{port}/tg",
                                            secret_token=secret, allowed_updates=Update.ALL_TYPES)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
