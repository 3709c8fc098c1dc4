"""Text typed (or a voice note or photo sent) outside any dialog is not lost: the person is offered to send
it as a request. The text waits in their dialog row (flow ``offer``), never in a button; "yes"
opens the request dialog with the description already filled in."""

from __future__ import annotations

from bot.domain.errors import Conflict
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import request
from bot.services.context import ServiceContext

FLOW = "offer"  # replaceable like a follow-up question (bot.services.dialog_rules.FOLLOW_UPS)


async def offer(ctx: ServiceContext, inp: Input) -> None:
    """Keep ``inp`` (text, voice or a photo with its caption) and ask whether to send it as a request."""
    data = {"description": (inp.text or "").strip()[:request.LIMITS["description"]]}
    if inp.voice_file_id:
        data = {"voice_file_id": inp.voice_file_id}
    elif inp.photo_file_id:
        data["photo_file_id"] = inp.photo_file_id
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, FLOW, data)
    await ctx.tell.resident.offer_request(ctx.user, data.get("description"))
    await ctx.uow.commit()


async def accept(ctx: ServiceContext) -> None:
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != FLOW:
        raise Conflict(N_("This question is out of date. Tap New request when you need help."))
    data = dict(dialog.data)
    await request.begin(ctx, description=data.get("description") or None, voice_file_id=data.get("voice_file_id"),
                        photo_file_id=data.get("photo_file_id"))


async def decline(ctx: ServiceContext) -> None:
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is not None and dialog.flow == FLOW:
        await ctx.uow.dialogs.clear(ctx.user.id)
    await ctx.tell.resident.offer_declined(ctx.user)
    await ctx.uow.commit()
