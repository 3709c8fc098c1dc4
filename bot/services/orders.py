"""The order's home among the services: finding one, who placed it, and moving it.

:func:`move` is the one place an order changes status: the conditional UPDATE that settles races
(the table in :mod:`bot.domain.lifecycle` says from where), the re-read, and the
:class:`~bot.services.follow_ups.OrderMoved` event whose subscribers (schedule, audit log, cards,
people's messages) run in the same unit of work, so no move can forget one.
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import NotFound
from bot.domain.lifecycle import MOVES, Move
from bot.i18n import N_
from bot.services.context import ServiceContext
from bot.services.follow_ups import SUBSCRIBERS, OrderMoved
from storage.models import Order, User


async def find(ctx: ServiceContext, order_id: int) -> Order:
    order = await ctx.uow.orders.get(order_id)
    if order is None:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    return order


async def resident_of(ctx: ServiceContext, order: Order) -> User:
    resident = await ctx.uow.users.get(order.resident_id)
    assert resident is not None
    return resident


async def move(ctx: ServiceContext, order_id: int, name: Move, *, where: dict[str, Any] | None = None,
               unless: dict[str, Any] | None = None, stars: int | None = None, reason: str | None = None,
               **values: Any) -> Order | None:
    """Make the move ``name`` if the order is still in one of its source statuses (and matches
    ``where``, and differs from ``unless``), setting ``values`` and emptying what the move forgets;
    then tell every subscriber. Returns the re-read order, or None when another update got there
    first (nothing happened: the caller refuses with its own words). The actor is ``ctx.user``;
    ``stars`` and ``reason`` are a rating's and a rejection's details for the follow-ups (``reason``
    of a dispatch: how it was routed, when no coordinator made it)."""
    rule = MOVES[name]
    forgotten = dict.fromkeys(rule.forgets)
    if not await ctx.uow.orders.transition(order_id, sorted(rule.sources), rule.target, where=where, unless=unless,
                                            **forgotten, **values):
        return None
    order = await find(ctx, order_id)
    moved = OrderMoved(order, name, ctx.user, await resident_of(ctx, order), stars=stars, reason=reason)
    for subscriber in SUBSCRIBERS:
        await subscriber(ctx, moved)
    return order
