"""The ◀ ▶ buttons of lists (see :mod:`bot.services.lists`)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import lists
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def page_button(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    chat = update.effective_chat
    assert chat is not None
    await lists.turn_page(ctx, button.int_arg(0), button.int_arg(1), chat.id)
    return None


CALLBACKS = {cb.PAGE: page_button}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Buttons only; see :data:`CALLBACKS`."""
