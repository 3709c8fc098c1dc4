"""An order's history for a coordinator (``/history N``, the 📜 button on the centre's card): the
order's own events (``order_events``: every move, escalation, the volunteer's figure) and any audit
events about it, oldest first, with the actors' first names and times in the centre's zone. Sent
privately (lists never go to a group where volunteers read), paged like the other lists."""

from __future__ import annotations

from bot.domain.errors import NotFound
from bot.i18n import N_
from bot.services.context import ServiceContext
from bot.services.privately import list_target
from bot.views.history import Happening
from bot.views.lists import Listing


async def show(ctx: ServiceContext, order_id: int, reply_chat_id: int | None = None, *, page: int = 0,
               row: int | None = None) -> None:
    ctx.require_coordinator()
    order = await ctx.uow.orders.get(order_id)
    if order is None:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    where = await list_target(ctx, reply_chat_id) if row is None else Listing(ctx.user.telegram_id, page, row)
    if where is not None:
        moves = [(e.created_at, 0, e.id, e.actor_id, e.event) for e in await ctx.uow.orders.events(order_id)]
        audit = [(e.created_at, 1, e.id, e.actor_id, e.event)
                 for e in await ctx.uow.audit.of_subject("order", order_id)]
        names: dict[int, str] = {}
        for actor_id in {a for _t, _k, _i, a, _e in moves + audit if a is not None}:
            actor = await ctx.uow.users.get(actor_id)
            names[actor_id] = actor.first_name if actor is not None else ""
        happenings = [Happening(at, event, names.get(actor) if actor is not None else None)
                      for at, _kind, _id, actor, event in sorted(moves + audit, key=lambda e: e[:3])]
        await ctx.tell.history.order(where, ctx.user, order_id, happenings, ctx.config.timezone)
    await ctx.uow.commit()


async def explain(ctx: ServiceContext) -> None:
    """The 📜 menu entry: how to see a request's history (it needs the request's number)."""
    ctx.require_coordinator()
    await ctx.tell(ctx.user, N_("Tap 📜 History on a request's card, or send /history and its number, e.g. "
                                "/history 42."))
    await ctx.uow.commit()
