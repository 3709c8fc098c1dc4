"""The centre's cards of an order: posted with a dispatch button per team, remembered so that a
dispatch can edit them (the outbox rows are kept in the audit log's ``created`` or ``reopened``
entry: no schema change)."""

from __future__ import annotations

from bot.services.context import ServiceContext
from storage.models import Order, Team


async def announce(ctx: ServiceContext, order: Order, event: str, *, reopened: bool = False,
                   note: str | None = None) -> None:
    """The order's card to the centre, with a button per team that serves its category; ``event``
    (``created``, ``reopened``) goes to the audit log with the cards' outbox rows, so a dispatch
    can edit them later."""
    teams = await ctx.uow.teams.for_category(order.category)
    cards = await ctx.tell.centre.new_order(await ctx.centre(), order, teams, reopened=reopened, note=note)
    actor = ctx.user.id if event == "created" else None
    await ctx.uow.orders.record(order.id, actor, event, centre_cards=cards)


async def cards_of(ctx: ServiceContext, order_id: int) -> list[int]:
    """The outbox rows of the centre's newest cards of the order (see :func:`announce`)."""
    for event in reversed(await ctx.uow.orders.events(order_id)):
        if "centre_cards" in event.detail:
            return [int(card) for card in event.detail["centre_cards"]]
    return []


async def show_with_team(ctx: ServiceContext, order: Order, team: Team | None, *, taken_by: str | None = None) -> None:
    """Edit the centre's cards: the order is with ``team`` — waiting, with buttons to move it to
    another team that serves its category (or reject it), or taken by ``taken_by``, without any."""
    if team is None:
        return
    others = [] if taken_by is not None else [
        t for t in await ctx.uow.teams.for_category(order.category) if t.id != team.id]
    await ctx.tell.centre.cards_with_team(await cards_of(ctx, order.id), order, team, others, taken_by=taken_by)
