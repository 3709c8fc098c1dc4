"""Claim: Accept on the group card; On my way, Done, hours, Release and "still mine" in private."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.i18n import N_
from bot.services import claim
from bot.services.context import ServiceContext
from bot.views import callbacks as cb


async def accept(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    chat = update.effective_chat
    assert chat is not None
    await claim.accept(ctx, button.int_arg(0), chat.id)
    return ctx.tell.tr(ctx.user)(N_("You took request #{number}; the details are in our private chat."),
                                     number=button.int_arg(0))


async def on_way(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await claim.on_my_way(ctx, button.int_arg(0))
    return None


async def done(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await claim.done(ctx, button.int_arg(0))
    return None


async def hours(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await claim.record_hours(ctx, button.int_arg(0), button.str_arg(1))
    return None


async def release(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await claim.release(ctx, button.int_arg(0))
    return None


async def keep(ctx: ServiceContext, button: cb.Button, update: Update) -> str | None:
    await claim.keep(ctx, button.int_arg(0))
    return None


CALLBACKS = {cb.ACCEPT: accept, cb.ON_WAY: on_way, cb.DONE: done, cb.HOURS: hours, cb.RELEASE: release,
             cb.KEEP: keep}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Buttons only; see :data:`CALLBACKS`."""
