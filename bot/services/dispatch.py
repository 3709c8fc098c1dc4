"""Dispatch: the centre sends an open request to a team's group, moves it, or rejects it.

Every status change is one conditional UPDATE (``orders.transition``) whose row count decides who
won; the loser gets a :class:`Conflict` and nothing else happens.
"""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import centre, dialog_rules, orders, privately
from bot.services.context import ServiceContext
from bot.services.schedule import rules
from bot.views.centre import REJECT_REASONS
from bot.views.lists import Listing
from storage.models import Team

DISPATCHABLE = ("new", "dispatched")


async def list_open(ctx: ServiceContext, reply_chat_id: int | None = None, *, page: int = 0, row: int | None = None) -> None:
    """``/orders``: the open requests, privately (or in the coordinators' chat), a page at a time."""
    ctx.require_coordinator()
    where = await privately.list_target(ctx, reply_chat_id, centre_may_read=True) if row is None \
        else Listing(reply_chat_id or ctx.user.telegram_id, page, row)
    if where is not None:
        orders = await ctx.uow.orders.with_status(("new", "dispatched", "accepted", "on_way"), limit=None)
        teams = {t.id: t.name for t in await ctx.uow.teams.active()}
        await ctx.tell.lists.open_orders(where, ctx.user, orders, teams)
    await ctx.uow.commit()


async def dispatch(ctx: ServiceContext, order_id: int, team_ref: int | str) -> Team:
    """Send an open order to a team's group, or move it to another team while nobody has taken it.

    The conditional UPDATE refuses the team that already has it, so a second tap (even at the same
    moment as the first) posts no second card."""
    ctx.require_coordinator()
    order = await orders.find(ctx, order_id)
    team = (await ctx.uow.teams.get(team_ref) if isinstance(team_ref, int)
            else await ctx.uow.teams.by_code(team_ref))
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_ref)
    if team.chat_id is None:
        raise Conflict(N_("Team {team} has no group yet: add me to its group and send /link {code} there."),
                       team=team.name, code=team.code)
    if not await ctx.uow.orders.transition(order_id, DISPATCHABLE, "dispatched", unless={"team_id": team.id},
                                            team_id=team.id):
        order = await orders.find(ctx, order_id)
        if order.status == "dispatched" and order.team_id == team.id:
            raise Conflict(N_("Request #{number} is already with team {team}; nothing was changed."),
                           number=order_id, team=team.name)
        raise Conflict(N_("Request #{number} cannot be dispatched now (it is {status})."),
                       number=order_id, status=order.status)
    order = await orders.find(ctx, order_id)  # read under our UPDATE: the card of whoever dispatched it before
    previous_card = order.card_outbox_id
    if previous_card is not None:
        _ = ctx.tell.group_tr()
        await ctx.tell.card.edit(order, _("Status: moved to another team"))
    order.card_outbox_id = await ctx.tell.card.post(order, team)
    order.offer_cards = None
    await rules.order_moved(ctx, order)
    await ctx.uow.orders.record(order_id, ctx.user.id, "dispatched", team=team.code)
    await ctx.tell.resident.status(await orders.resident_of(ctx, order), order,
                                    N_("Request #{number} was passed to the {team} team. "
                                       "A volunteer will take it soon."), team=team.name)
    await ctx.tell.centre.message(
        await ctx.centre(), N_("Request #{number} → {team} (by {coordinator})."), number=order_id,
        team=team.name, coordinator=ctx.user.first_name)
    await centre.show_with_team(ctx, order, team)
    await ctx.uow.commit()
    return team


async def ask_reject_reason(ctx: ServiceContext, order_id: int) -> None:
    ctx.require_coordinator()
    order = await orders.find(ctx, order_id)
    if order.status not in DISPATCHABLE:
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    await dialog_rules.begin_from_button(ctx, "reject", "reason", {"order_id": order_id})
    await ctx.tell.centre.ask_reject_reason(ctx.user, order)
    await ctx.uow.commit()


async def reject(ctx: ServiceContext, order_id: int, reason: str) -> None:
    """Reject an order that no team has taken; the resident is told why."""
    ctx.require_coordinator()
    reason = reason.strip()[:300]
    if not reason:
        raise InvalidInput(N_("Please give a reason."))
    order = await orders.find(ctx, order_id)
    if not await ctx.uow.orders.transition(order_id, DISPATCHABLE, "rejected"):
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    order = await orders.find(ctx, order_id)
    await rules.order_moved(ctx, order)
    await dialog_rules.close(ctx, "reject")
    await ctx.uow.orders.record(order_id, ctx.user.id, "rejected", reason=reason)
    resident = await orders.resident_of(ctx, order)
    await ctx.tell.resident.status(resident, order, N_("Sorry, request #{number} was not accepted: {reason}"),
                                    reason=ctx.tell.tr(resident)(REJECT_REASONS.get(reason, reason)))
    _ = ctx.tell.group_tr()
    await ctx.tell.card.edit(order, _("Status: rejected by the centre"))
    await ctx.tell.centre.message(
        await ctx.centre(), N_("Request #{number} rejected by {coordinator}."), number=order_id,
        coordinator=ctx.user.first_name)
    await ctx.uow.commit()


async def input_for_reject(ctx: ServiceContext, data: dict[str, object], inp: Input) -> None:
    await reject(ctx, int(str(data["order_id"])), inp.text or "")
