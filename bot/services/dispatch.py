"""Dispatch: the centre sends an open request to a team's group, moves it, or rejects it.

Every status change is one :func:`bot.services.orders.move` (a conditional UPDATE whose row count
decides who won, then its follow-ups); the loser gets a :class:`Conflict` and nothing else happens.
"""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.inputs import Input
from bot.domain.lifecycle import OPEN, Move, OrderStatus, can
from bot.i18n import N_
from bot.services import dialog_rules, orders, privately
from bot.services.context import ServiceContext
from bot.views.lists import Listing
from storage.models import Team


async def list_open(ctx: ServiceContext, reply_chat_id: int | None = None, *, page: int = 0,
                    row: int | None = None) -> None:
    """``/orders``: the open requests, privately (or in the coordinators' chat), a page at a time."""
    ctx.require_coordinator()
    where = await privately.list_target(ctx, reply_chat_id, centre_may_read=True) if row is None \
        else Listing(reply_chat_id or ctx.user.telegram_id, page, row)
    if where is not None:
        orders = await ctx.uow.orders.with_status(sorted(OPEN), limit=None)
        teams = {t.id: t.name for t in await ctx.uow.teams.active()}
        await ctx.tell.lists.open_orders(where, ctx.user, orders, teams)
    await ctx.uow.commit()


async def dispatch(ctx: ServiceContext, order_id: int, team_ref: int | str) -> Team:
    """Send an open order to a team's group, or move it to another team while nobody has taken it."""
    ctx.require_coordinator()
    await orders.find(ctx, order_id)  # an unknown order is refused before the team is looked at
    team = (await ctx.uow.teams.get(team_ref) if isinstance(team_ref, int)
            else await ctx.uow.teams.by_code(team_ref))
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_ref)
    await send_to(ctx, order_id, team)
    await ctx.uow.commit()
    return team


async def send_to(ctx: ServiceContext, order_id: int, team: Team, *, routed: str | None = None) -> None:
    """The dispatch itself, for a coordinator's tap and for a routing rule (``routed``, see
    bot.services.routing): one move, so the team card, the timers and every message follow alike.

    The conditional UPDATE refuses the team that already has it, so a second tap (even at the same
    moment as the first) posts no second card."""
    if team.chat_id is None:
        raise Conflict(N_("Team {team} has no group yet: add me to its group and send /link {code} there."),
                       team=team.name, code=team.code)
    if await orders.move(ctx, order_id, Move.DISPATCH, unless={"team_id": team.id}, reason=routed,
                         team_id=team.id) is None:
        order = await orders.find(ctx, order_id)
        if order.status == OrderStatus.DISPATCHED and order.team_id == team.id:
            raise Conflict(N_("Request #{number} is already with team {team}; nothing was changed."),
                           number=order_id, team=team.name)
        raise Conflict(N_("Request #{number} cannot be dispatched now (it is {status})."),
                       number=order_id, status=order.status)


async def listen(ctx: ServiceContext, order_id: int) -> None:
    """A coordinator hears an order's voice note before dispatching it: privately, protected from
    forwarding, never in a group (the Listen button may be tapped in the centre's group)."""
    ctx.require_coordinator()
    order = await orders.find(ctx, order_id)
    if not order.voice_file_id:
        raise Conflict(N_("Request #{number} has no voice note."), number=order_id)
    if ctx.user.unreachable or not await ctx.uow.outbox.reached(ctx.user.telegram_id):
        raise Conflict(N_("Please open a private chat with me and tap Start, then tap Listen again."))
    await ctx.tell.centre.voice(ctx.user, order)
    await ctx.uow.commit()


async def ask_reject_reason(ctx: ServiceContext, order_id: int) -> None:
    ctx.require_coordinator()
    order = await orders.find(ctx, order_id)
    if not can(Move.REJECT, order.status):
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
    if await orders.move(ctx, order_id, Move.REJECT, reason=reason) is None:
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    await dialog_rules.close(ctx, "reject")
    await ctx.uow.commit()


async def input_for_reject(ctx: ServiceContext, data: dict[str, object], inp: Input) -> None:
    await reject(ctx, int(str(data["order_id"])), inp.text or "")
