"""What always follows a move of an order, in the move's unit of work: the subscribers of
:class:`OrderMoved`, registered in :data:`SUBSCRIBERS` (the one place; :func:`bot.services.orders.move`
runs them in this order).

1. the schedule: cancel what the move made pointless, schedule what the new status calls for;
2. the audit log: the move's event (``order_events``);
   the hours ledger: a move to done writes the volunteer's entry for the round (accept → done);
3. the team card: its status line (a dispatch posts the card in the team's group);
4. the centre: its message and cards;
5. the people: the resident's status line, the volunteer of a cancelled order;
6. the volunteer's chat: the contact taken back once the order finishes or leaves them (retention).

What only one command does (asking for the hours after Done, the reject-reason dialog, the
volunteer's own confirmation) stays in that command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.lifecycle import GIVE_BACKS, MOVES, Move
from bot.i18n import N_
from bot.services import centre, hours, retention, timetable
from bot.services.context import ServiceContext
from bot.views.centre import ROUTED_BY_RULE, ROUTED_EMERGENCY
from storage.models import Order, Team, User


@dataclass(frozen=True)
class OrderMoved:
    """An order has just moved (its row re-read after the conditional UPDATE)."""

    order: Order
    move: Move
    actor: User  # who moved it (the system user for the schedule's moves: its id is None)
    resident: User  # who placed the order
    stars: int | None = None  # CLOSE, REOPEN: the rating (bot.domain.satisfaction; 0: "not solved")
    reason: str | None = None  # REJECT: why (a reason code or the typed text); DISPATCH: how it was routed


Subscriber = Callable[[ServiceContext, OrderMoved], Awaitable[None]]


async def _team(ctx: ServiceContext, order: Order) -> Team | None:
    return await ctx.uow.teams.get(order.team_id or 0)


async def _team_of(ctx: ServiceContext, order: Order) -> Team:
    """The team a dispatched or accepted order is with (the move set it)."""
    team = await _team(ctx, order)
    assert team is not None
    return team


async def schedule(ctx: ServiceContext, moved: OrderMoved) -> None:
    await timetable.order_moved(ctx, moved.order)


async def audit(ctx: ServiceContext, moved: OrderMoved) -> None:
    detail: dict[str, Any] = {}
    if moved.move is Move.DISPATCH:
        detail["team"] = (await _team_of(ctx, moved.order)).code
        if moved.reason:
            detail["routed"] = moved.reason
    elif moved.move is Move.REJECT:
        detail["reason"] = moved.reason
    elif moved.move in (Move.CLOSE, Move.REOPEN):
        detail["stars"] = moved.stars
    elif moved.move is Move.DONE:  # the round this volunteer served: their hours are kept per round
        detail["round"] = moved.order.round
    await ctx.uow.orders.record(moved.order.id, moved.actor.id, MOVES[moved.move].event, **detail)


async def ledger(ctx: ServiceContext, moved: OrderMoved) -> None:
    """Done: the round's hours go into the ledger (after the audit event, whose times they read)."""
    if moved.move is Move.DONE:
        await hours.order_done(ctx, moved.order)


async def team_card(ctx: ServiceContext, moved: OrderMoved) -> None:
    """The card in the team's group (and any offered to other teams) says where the order stands;
    a dispatch posts the card in the new team's group."""
    order, _, volunteer = moved.order, ctx.tell.group_tr(), moved.actor.first_name
    match moved.move:
        case Move.DISPATCH:
            if order.card_outbox_id is not None:  # dispatched before: that team's card says it moved on
                await ctx.tell.card.edit(order, _("Status: moved to another team"))
            order.card_outbox_id = await ctx.tell.card.post(order, await _team_of(ctx, order))
            order.offer_cards = None
        case Move.REJECT:
            await ctx.tell.card.edit(order, _("Status: rejected by the centre"))
        case Move.ACCEPT:
            await ctx.tell.card.edit(order, _("Status: ✅ taken by {volunteer}", volunteer=volunteer))
        case Move.ON_WAY:
            await ctx.tell.card.edit(order, _("Status: 🚶 {volunteer} is on the way", volunteer=volunteer))
        case Move.DONE:
            await ctx.tell.card.edit(order, _("Status: ✔️ done by {volunteer}", volunteer=volunteer))
        case Move.RELEASE:
            await ctx.tell.card.edit(order, _("Status: waiting for a volunteer (released by {volunteer})",
                                               volunteer=volunteer), accept_button=True)
        case Move.LEASE_EXPIRED:
            await ctx.tell.card.edit(order, _("Status: waiting for a volunteer (the previous one did not confirm)"),
                                      accept_button=True)
        case Move.CLOSE | Move.REOPEN:
            await ctx.tell.card.edit(order, _("Status: done, rated {verdict}",
                                               verdict=ctx.tell.verdict(None, moved.stars)))
        case Move.NO_RESPONSE:
            await ctx.tell.card.edit(order, _("Status: done, closed without a rating"))
        case Move.CANCEL:
            await ctx.tell.card.edit(order, _("Status: cancelled by the resident"))


async def centre_cards(ctx: ServiceContext, moved: OrderMoved) -> None:
    """The centre hears of dispatches and rejections, and its cards of the order offer only what
    is still possible; a reopened order comes back to it as a new card."""
    order, name = moved.order, moved.actor.first_name
    if moved.move is Move.DISPATCH:
        team = await _team_of(ctx, order)
        notice = ROUTED_NOTICES.get(moved.reason or "", N_("Request #{number} → {team} (by {coordinator})."))
        await ctx.tell.centre.message(await ctx.centre(), notice, number=order.id, team=team.name, coordinator=name)
        await centre.show_with_team(ctx, order, team, routed=moved.reason)
    elif moved.move is Move.REJECT:
        await ctx.tell.centre.message(
            await ctx.centre(), N_("Request #{number} rejected by {coordinator}."), number=order.id,
            coordinator=name)
    elif moved.move is Move.ACCEPT:
        await centre.show_with_team(ctx, order, await _team_of(ctx, order), taken_by=name)
    elif moved.move in GIVE_BACKS:
        await centre.show_with_team(ctx, order, await _team(ctx, order))
    elif moved.move is Move.REOPEN:
        _ = ctx.tell.group_tr()
        await centre.announce(ctx, order, "reopened", reopened=True,
                              note=_("Rated {verdict} by the resident.", verdict=ctx.tell.verdict(None, moved.stars)))


# What the centre hears of a dispatch no coordinator made (see bot.services.routing).
ROUTED_NOTICES = {ROUTED_BY_RULE: N_("Request #{number} → {team} (routed by a rule)."),
                  ROUTED_EMERGENCY: N_("🚨 Emergency request #{number} went straight to team {team}.")}


async def people(ctx: ServiceContext, moved: OrderMoved) -> None:
    """The resident hears of every step; the volunteer of a cancelled order hears it was cancelled."""
    order, resident, name = moved.order, moved.resident, moved.actor.first_name
    tell = ctx.tell.resident.status
    if moved.move is Move.DISPATCH:
        await tell(resident, order, N_("Request #{number} was passed to the {team} team. "
                                       "A volunteer will take it soon."), team=(await _team_of(ctx, order)).name)
    elif moved.move is Move.REJECT:
        await tell(resident, order, N_("Sorry, request #{number} was not accepted: {reason}"),
                   reason=ctx.tell.centre.reject_reason(resident, moved.reason or ""))
    elif moved.move is Move.ACCEPT:
        await tell(resident, order, N_("Good news: volunteer {volunteer} has taken request #{number} "
                                       "and will contact you."), volunteer=name)
    elif moved.move is Move.ON_WAY:
        await tell(resident, order, N_("{volunteer} is on the way for request #{number}."), volunteer=name)
    elif moved.move is Move.DONE:
        await ctx.tell.resident.ask_rating(resident, order, name)
    elif moved.move in GIVE_BACKS:
        await tell(resident, order, N_("The volunteer could not do request #{number}; we are finding another one."))
    elif moved.move is Move.REOPEN:
        await tell(resident, order, N_("We are sorry. Request #{number} is reopened and the centre will follow up."))
    elif moved.move is Move.CANCEL:
        await tell(resident, order, N_("Request #{number} is cancelled."))
        volunteer = await ctx.uow.users.get(order.volunteer_id) if order.volunteer_id is not None else None
        if volunteer is not None:
            await ctx.tell(volunteer, N_("Request #{number} was cancelled by the resident. "
                                          "Thank you all the same!"), number=order.id)


async def measures(ctx: ServiceContext, moved: OrderMoved) -> None:
    """The order's first accept and last done, which the measures read (docs/measures.md)."""
    if moved.move in (Move.ACCEPT, Move.DONE):
        await ctx.uow.measures.mark(moved.order.id, accepted=moved.move is Move.ACCEPT)


async def volunteer_chat(ctx: ServiceContext, moved: OrderMoved) -> None:
    """The volunteer's private copy of the contact is redacted once they no longer need it."""
    await retention.volunteer_chat(ctx, moved.order, moved.move)


SUBSCRIBERS: tuple[Subscriber, ...] = (schedule, audit, ledger, measures, team_card, centre_cards, people,
                                       volunteer_chat)
