"""The centre's cards of an order: posted with a dispatch button per team, remembered so that a
dispatch can edit them (the outbox rows are kept in the audit log's ``created``, ``reopened`` or
``shown`` entry: no schema change)."""

from __future__ import annotations

from bot.domain.lifecycle import OrderStatus
from bot.services.context import ServiceContext
from bot.views.common import Reader
from storage.models import Order, Team, User

WAITING_CARDS = 50  # the oldest waiting orders a new coordinator is shown (/orders lists them all)


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


async def show_with_team(ctx: ServiceContext, order: Order, team: Team | None, *, taken_by: str | None = None,
                         routed: str | None = None) -> None:
    """Edit the centre's cards: the order is with ``team`` (``routed`` there with no coordinator's
    tap, see bot.services.routing) — waiting, with buttons to move it to another team that serves
    its category (or reject it), or taken by ``taken_by``, without any."""
    if team is None:
        return
    others = [] if taken_by is not None else [
        t for t in await ctx.uow.teams.for_category(order.category) if t.id != team.id]
    await ctx.tell.centre.cards_with_team(await cards_of(ctx, order.id), order, team, others, taken_by=taken_by,
                                          routed=routed)


async def show_waiting(ctx: ServiceContext, coordinator: User) -> None:
    """A newly appointed coordinator gets the cards of the orders waiting for dispatch (placed,
    perhaps, while nobody read the centre). With no centre group, the centre is each coordinator
    privately; the new cards join the order's others, so a dispatch edits them all."""
    if ctx.config.coordinators_chat_id is not None:  # the group has the cards already
        return
    reader = [Reader(coordinator.telegram_id, coordinator)]
    for order in await ctx.uow.orders.with_status([OrderStatus.NEW], limit=WAITING_CARDS):
        cards = await ctx.tell.centre.new_order(reader, order, await ctx.uow.teams.for_category(order.category))
        await ctx.uow.orders.record(order.id, None, "shown", centre_cards=[*await cards_of(ctx, order.id), *cards])
