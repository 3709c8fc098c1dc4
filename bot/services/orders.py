"""The order's home among the services: finding one, and who placed it."""

from __future__ import annotations

from bot.domain.errors import NotFound
from bot.i18n import N_
from bot.services.context import ServiceContext
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
