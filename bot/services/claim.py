"""Claim: a team member takes a request from the group card, goes, finishes it, or gives it back."""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.inputs import Input
from bot.domain.lifecycle import FINISHED, MOVES, Move, OrderStatus
from bot.i18n import N_
from bot.services import dialog_rules, hours, orders, timetable
from bot.services.context import ServiceContext
from storage.models import Order, Team


async def accept(ctx: ServiceContext, order_id: int, chat_id: int) -> None:
    """The first approved member of the order's team — or of a team the escalation ladder offered
    it to — to tap Accept takes it (for their team)."""
    order = await orders.find(ctx, order_id)
    team = await ctx.uow.teams.by_chat(chat_id)
    if team is None or not await _may_take(ctx, order, team):
        raise Conflict(N_("This card is out of date."))
    if await ctx.uow.volunteers.approved(ctx.user.id, team.id) is None:
        raise NotAllowed(N_("Only approved members of team {team} can take requests. "
                            "Open a private chat with me and send /join."), team=team.name)
    if order.resident_id == ctx.user.id:  # never changes, so no race: the card stays for the others
        raise NotAllowed(N_("This is your own request: another volunteer will take it."))
    # Still with the team it was with when read (not re-dispatched meanwhile), still untaken.
    taken = await orders.move(ctx, order_id, Move.ACCEPT, where={"team_id": order.team_id},
                              volunteer_id=ctx.user.id, team_id=team.id)
    if taken is None:
        raise Conflict(N_("Sorry, someone else has already taken this request."))
    taken.volunteer_messages = await ctx.tell.volunteer.details(ctx.user, taken)  # redacted when it ends
    await ctx.uow.commit()


async def _may_take(ctx: ServiceContext, order: Order, team: Team) -> bool:
    """Whether ``team``'s members may take the order from its card: the team it is with, a team the
    escalation ladder offered it to, or the team whose group holds its own card (it was dispatched
    there; a member of an offered team took it and gave it back, so it waits in both groups)."""
    if order.team_id == team.id or str(team.id) in (order.offer_cards or {}):
        return True
    card = await ctx.uow.outbox.get(order.card_outbox_id) if order.card_outbox_id is not None else None
    return card is not None and team.chat_id is not None and card.chat_id == team.chat_id


async def _own_active(ctx: ServiceContext, order_id: int) -> Order:
    order = await orders.find(ctx, order_id)
    if order.volunteer_id != ctx.user.id:
        raise NotAllowed(N_("Request #{number} is not yours."), number=order_id)
    return order


async def on_my_way(ctx: ServiceContext, order_id: int) -> None:
    await _own_active(ctx, order_id)
    order = await orders.move(ctx, order_id, Move.ON_WAY, where={"volunteer_id": ctx.user.id})
    if order is None:
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    await ctx.tell(ctx.user, N_("Noted: on your way to request #{number}. Tap Done when finished."),
                    number=order_id, markup=ctx.tell.volunteer.keyboard(ctx.user, order))
    await ctx.uow.commit()


async def done(ctx: ServiceContext, order_id: int) -> None:
    """The volunteer finished: the resident is asked for a rating, the volunteer for the hours."""
    await _own_active(ctx, order_id)
    order = await orders.move(ctx, order_id, Move.DONE, where={"volunteer_id": ctx.user.id})
    if order is None:
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    typed = await dialog_rules.ask_follow_up(ctx, "hours", "hours", {"order_id": order_id})  # else: buttons only
    await ctx.tell.volunteer.ask_hours(ctx.user, order, typed=typed)
    await ctx.uow.commit()


async def record_hours(ctx: ServiceContext, order_id: int, raw: str) -> None:
    """The volunteer's own figure for the round they served, recorded once beside the ledger's entry
    (whose counted minutes, accept → done, it never changes); the audit log keeps it as history."""
    try:
        hours_given = round(float(raw.strip().replace(",", ".")), 2)
    except ValueError:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5.")) from None
    if not 0 < hours_given <= 24:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5."))
    order = await orders.find(ctx, order_id)
    served = await _served_round(ctx, order)
    if served is None:
        raise NotAllowed(N_("Request #{number} is not yours."), number=order_id)
    await dialog_rules.close(ctx, "hours")
    if await hours.claim(ctx, order_id, served, hours_given):
        await ctx.uow.orders.record(order_id, ctx.user.id, "hours", hours=hours_given, round=served)
        await ctx.tell(ctx.user, N_("Recorded {hours} h for request #{number}. Thank you!"),
                        hours=hours_given, number=order_id)
    else:  # the first figure stands (a coordinator can correct the counted hours)
        await ctx.tell(ctx.user, N_("Your hours for request #{number} are already recorded. Thank you!"),
                        number=order_id)
    await ctx.uow.commit()


async def _served_round(ctx: ServiceContext, order: Order) -> int | None:
    """The round of ``order`` the person finished (its hours are theirs to enter), even when the
    resident has rated it poorly since and it was reopened; None if they finished none."""
    if order.volunteer_id == ctx.user.id and order.status in FINISHED:
        return order.round
    rounds = [event.detail.get("round") for event in await ctx.uow.orders.events(order.id)
              if event.event == MOVES[Move.DONE].event and event.actor_id == ctx.user.id]
    return next((r for r in reversed(rounds) if isinstance(r, int)), None)


async def release(ctx: ServiceContext, order_id: int) -> None:
    """The volunteer gives the order back to the team's group; the card is reset."""
    await _own_active(ctx, order_id)
    if await orders.move(ctx, order_id, Move.RELEASE, where={"volunteer_id": ctx.user.id}) is None:
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    await ctx.tell(ctx.user, N_("You released request #{number}."), number=order_id)
    await ctx.uow.commit()


async def input_for_hours(ctx: ServiceContext, data: dict[str, object], inp: Input) -> None:
    await record_hours(ctx, int(str(data["order_id"])), inp.text or "")


async def keep(ctx: ServiceContext, order_id: int) -> None:
    """The volunteer answers the lease question "I still have it": a new lease starts now."""
    order = await ctx.uow.orders.get(order_id)
    if order is None or order.volunteer_id != ctx.user.id or order.status != OrderStatus.ACCEPTED:
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    await timetable.order_moved(ctx, order)  # not a move: the accepted order's schedule starts afresh
    await ctx.tell(ctx.user, N_("Thank you! Request #{number} stays yours."), number=order_id,
                    markup=ctx.tell.volunteer.keyboard(ctx.user, order))
    await ctx.uow.commit()
