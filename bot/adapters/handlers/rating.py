"""Rating: the resident's stars (or "not solved") and the optional comment's Skip button."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import rating
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def rate(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await rating.rate(ctx, button.int_arg(0), button.int_arg(1))
    return None


async def skip_comment(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await rating.skip_comment(ctx, button.int_arg(0))
    return None


CALLBACKS = {cb.RATE: rate, cb.SKIP_COMMENT: skip_comment}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Buttons only; see :data:`CALLBACKS`."""
