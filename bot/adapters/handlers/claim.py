"""Volunteers: Accept on the group card; On my way, Done, hours, Release and "still mine" in private."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.i18n import N_
from bot.services import claim, rating
from bot.services.context import Call
from bot.views import callbacks as cb


async def accept(call: Call, button: cb.Button, update: Update) -> str | None:
    chat = update.effective_chat
    assert chat is not None
    await claim.accept(call, button.int_arg(0), chat.id)
    return call.notify.tr(call.user)(N_("You took request #{number}; the details are in our private chat."),
                                     number=button.int_arg(0))


async def on_way(call: Call, button: cb.Button, update: Update) -> str | None:
    await claim.on_my_way(call, button.int_arg(0))
    return None


async def done(call: Call, button: cb.Button, update: Update) -> str | None:
    await claim.done(call, button.int_arg(0))
    return None


async def hours(call: Call, button: cb.Button, update: Update) -> str | None:
    await claim.record_hours(call, button.int_arg(0), button.str_arg(1))
    return None


async def release(call: Call, button: cb.Button, update: Update) -> str | None:
    await claim.release(call, button.int_arg(0))
    return None


async def keep(call: Call, button: cb.Button, update: Update) -> str | None:
    await claim.keep(call, button.int_arg(0))
    return None


async def rate(call: Call, button: cb.Button, update: Update) -> str | None:
    await rating.rate(call, button.int_arg(0), button.int_arg(1))
    return None


async def skip_comment(call: Call, button: cb.Button, update: Update) -> str | None:
    await rating.skip_comment(call, button.int_arg(0))
    return None


CALLBACKS = {cb.ACCEPT: accept, cb.ON_WAY: on_way, cb.DONE: done, cb.HOURS: hours, cb.RELEASE: release,
             cb.KEEP: keep, cb.RATE: rate, cb.SKIP_COMMENT: skip_comment}


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Buttons only; see :data:`CALLBACKS`."""
