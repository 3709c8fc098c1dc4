"""Dispatch: the centre sends an open request to a team's group, moves it, or rejects it.

Every status change is one conditional UPDATE (``orders.transition``) whose row count decides who
won; the loser gets a :class:`Conflict` and nothing else happens.
"""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import centre, dialog_rules, orders, privately
from bot.services.context import Call
from bot.services.schedule import rules
from bot.views.notifier import REJECT_REASONS, Listing
from storage.models import Team

DISPATCHABLE = ("new", "dispatched")


async def list_open(call: Call, reply_chat_id: int | None = None, *, page: int = 0, row: int | None = None) -> None:
    """``/orders``: the open requests, privately (or in the coordinators' chat), a page at a time."""
    call.require_coordinator()
    where = await privately.list_target(call, reply_chat_id, centre_may_read=True) if row is None \
        else Listing(reply_chat_id or call.user.telegram_id, page, row)
    if where is not None:
        orders = await call.uow.orders.with_status(("new", "dispatched", "accepted", "on_way"), limit=None)
        teams = {t.id: t.name for t in await call.uow.teams.active()}
        await call.notify.open_orders(where, call.user, orders, teams)
    await call.uow.commit()


async def dispatch(call: Call, order_id: int, team_ref: int | str) -> Team:
    """Send an open order to a team's group, or move it to another team while nobody has taken it.

    The conditional UPDATE refuses the team that already has it, so a second tap (even at the same
    moment as the first) posts no second card."""
    call.require_coordinator()
    order = await orders.find(call, order_id)
    team = (await call.uow.teams.get(team_ref) if isinstance(team_ref, int)
            else await call.uow.teams.by_code(team_ref))
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_ref)
    if team.chat_id is None:
        raise Conflict(N_("Team {team} has no group yet: add me to its group and send /link {code} there."),
                       team=team.name, code=team.code)
    if not await call.uow.orders.transition(order_id, DISPATCHABLE, "dispatched", unless={"team_id": team.id},
                                            team_id=team.id):
        order = await orders.find(call, order_id)
        if order.status == "dispatched" and order.team_id == team.id:
            raise Conflict(N_("Request #{number} is already with team {team}; nothing was changed."),
                           number=order_id, team=team.name)
        raise Conflict(N_("Request #{number} cannot be dispatched now (it is {status})."),
                       number=order_id, status=order.status)
    order = await orders.find(call, order_id)  # read under our UPDATE: the card of whoever dispatched it before
    previous_card = order.card_outbox_id
    if previous_card is not None:
        _ = call.notify.group_tr()
        await call.notify.edit_card(order, _("Status: moved to another team"))
    order.card_outbox_id = await call.notify.post_card(order, team)
    order.offer_cards = None
    await rules.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "dispatched", team=team.code)
    await call.notify.resident_status(await orders.resident_of(call, order), order,
                                      N_("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon."), team=team.name)
    await call.notify.to_coordinators(N_("Request #{number} → {team} (by {coordinator})."), number=order_id,
                                      team=team.name, coordinator=call.user.first_name)
    await centre.show_with_team(call, order, team)
    await call.uow.commit()
    return team


async def ask_reject_reason(call: Call, order_id: int) -> None:
    call.require_coordinator()
    order = await orders.find(call, order_id)
    if order.status not in DISPATCHABLE:
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    await dialog_rules.begin_from_button(call, "reject", "reason", {"order_id": order_id})
    await call.notify.ask_reject_reason(call.user, order)
    await call.uow.commit()


async def reject(call: Call, order_id: int, reason: str) -> None:
    """Reject an order that no team has taken; the resident is told why."""
    call.require_coordinator()
    reason = reason.strip()[:300]
    if not reason:
        raise InvalidInput(N_("Please give a reason."))
    order = await orders.find(call, order_id)
    if not await call.uow.orders.transition(order_id, DISPATCHABLE, "rejected"):
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    order = await orders.find(call, order_id)
    await rules.order_moved(call, order)
    await dialog_rules.close(call, "reject")
    await call.uow.orders.record(order_id, call.user.id, "rejected", reason=reason)
    resident = await orders.resident_of(call, order)
    await call.notify.resident_status(resident, order, N_("Sorry, request #{number} was not accepted: {reason}"),
                                      reason=call.notify.tr(resident)(REJECT_REASONS.get(reason, reason)))
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: rejected by the centre"))
    await call.notify.to_coordinators(N_("Request #{number} rejected by {coordinator}."), number=order_id,
                                      coordinator=call.user.first_name)
    await call.uow.commit()


async def input_for_reject(call: Call, data: dict[str, object], inp: Input) -> None:
    await reject(call, int(str(data["order_id"])), inp.text or "")
