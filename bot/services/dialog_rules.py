"""Who may take over a person's one open dialog (the ``dialogs`` row: a flow and its step).

A person has one dialog at a time, and their typed answers go to it. A button of one flow must
never replace another flow's draft — a rating tapped while a request is half written would
otherwise take the next answer (an address, a phone number) as its comment. Only a follow-up
question (the optional comment after a rating, the hours after Done) may be replaced: it is one
optional question whose buttons work without it; so may the offer to send typed text as a request
(``offer``, :mod:`bot.services.offer`).
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import Conflict
from bot.i18n import N_
from bot.services.context import ServiceContext

FOLLOW_UPS = frozenset({"comment", "hours", "offer"})
BUSY = N_("Please finish what you are writing first, or send /start to cancel it.")


async def _draft_of_another_flow(ctx: ServiceContext, flow: str) -> bool:
    current = await ctx.uow.dialogs.get(ctx.user.id)
    return current is not None and current.flow != flow and current.flow not in FOLLOW_UPS


async def ask_follow_up(ctx: ServiceContext, flow: str, step: str, data: dict[str, Any]) -> bool:
    """Open the follow-up ``flow`` unless the person is writing something else; whether it opened."""
    if await _draft_of_another_flow(ctx, flow):
        return False
    await ctx.uow.dialogs.set(ctx.user.id, flow, step, data)
    return True


async def begin_from_button(ctx: ServiceContext, flow: str, step: str, data: dict[str, Any]) -> None:
    """Open ``flow`` for a button that starts it; refused (translated) while another draft is open."""
    if await _draft_of_another_flow(ctx, flow):
        raise Conflict(BUSY)
    await ctx.uow.dialogs.set(ctx.user.id, flow, step, data)


async def refuse_if_busy(ctx: ServiceContext, flow: str) -> None:
    """Refuse a button of ``flow`` that would replace (or discard) another flow's draft."""
    if await _draft_of_another_flow(ctx, flow):
        raise Conflict(BUSY)


async def close(ctx: ServiceContext, flow: str) -> None:
    """End ``flow``'s dialog; another flow's draft stays as it is."""
    current = await ctx.uow.dialogs.get(ctx.user.id)
    if current is not None and current.flow == flow:
        await ctx.uow.dialogs.clear(ctx.user.id)
