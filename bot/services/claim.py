"""Claim: a team member takes a request from the group card, goes, finishes it, or gives it back."""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import centre, dialog_rules, orders
from bot.services.context import Call
from bot.services.schedule import rules
from storage.models import Order

ACTIVE = ("accepted", "on_way")


async def accept(call: Call, order_id: int, chat_id: int) -> None:
    """The first approved member of the order's team — or of a team the escalation ladder offered
    it to — to tap Accept takes it (for their team)."""
    order = await orders.find(call, order_id)
    team = await call.uow.teams.by_chat(chat_id)
    offered = team is not None and str(team.id) in (order.offer_cards or {})
    if team is None or (order.team_id != team.id and not offered):
        raise Conflict(N_("This card is out of date."))
    if await call.uow.volunteers.approved(call.user.id, team.id) is None:
        raise NotAllowed(N_("Only approved members of team {team} can take requests. "
                            "Open a private chat with me and send /join."), team=team.name)
    if order.resident_id == call.user.id:  # never changes, so no race: the card stays for the others
        raise NotAllowed(N_("This is your own request: another volunteer will take it."))
    # Still with the team it was with when read (not re-dispatched meanwhile), still untaken.
    if not await call.uow.orders.transition(order_id, ["dispatched"], "accepted", where={"team_id": order.team_id},
                                            volunteer_id=call.user.id, team_id=team.id):
        raise Conflict(N_("Sorry, someone else has already taken this request."))
    order = await orders.find(call, order_id)
    await rules.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "accepted")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: ✅ taken by {volunteer}", volunteer=call.user.first_name))
    await centre.show_with_team(call, order, team, taken_by=call.user.first_name)
    await call.notify.resident_status(await orders.resident_of(call, order), order,
                                      N_("Good news: volunteer {volunteer} has taken request #{number} "
                                         "and will contact you."), volunteer=call.user.first_name)
    await call.notify.volunteer_details(call.user, order)
    await call.uow.commit()


async def _own_active(call: Call, order_id: int) -> Order:
    order = await orders.find(call, order_id)
    if order.volunteer_id != call.user.id:
        raise NotAllowed(N_("Request #{number} is not yours."), number=order_id)
    return order


async def on_my_way(call: Call, order_id: int) -> None:
    await _own_active(call, order_id)
    if not await call.uow.orders.transition(order_id, ["accepted"], "on_way", where={"volunteer_id": call.user.id}):
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    order = await orders.find(call, order_id)
    await rules.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "on_way")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: 🚶 {volunteer} is on the way", volunteer=call.user.first_name))
    await call.notify.resident_status(await orders.resident_of(call, order), order,
                                      N_("{volunteer} is on the way for request #{number}."),
                                      volunteer=call.user.first_name)
    await call.notify.tell(call.user, N_("Noted: on your way to request #{number}. Tap Done when finished."),
                           number=order_id, markup=call.notify.volunteer_keyboard(call.user, order))
    await call.uow.commit()


async def done(call: Call, order_id: int) -> None:
    """The volunteer finished: the resident is asked for a rating, the volunteer for the hours."""
    await _own_active(call, order_id)
    if not await call.uow.orders.transition(order_id, ACTIVE, "done", where={"volunteer_id": call.user.id}):
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    order = await orders.find(call, order_id)
    await rules.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "done")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: ✔️ done by {volunteer}", volunteer=call.user.first_name))
    await call.notify.ask_rating(await orders.resident_of(call, order), order, call.user.first_name)
    typed = await dialog_rules.ask_follow_up(call, "hours", "hours", {"order_id": order_id})  # else: buttons only
    await call.notify.ask_hours(call.user, order, typed=typed)
    await call.uow.commit()


async def record_hours(call: Call, order_id: int, raw: str) -> None:
    try:
        hours = round(float(raw.strip().replace(",", ".")), 2)
    except ValueError:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5.")) from None
    if not 0 < hours <= 24:
        raise InvalidInput(N_("Please type the hours as a number, e.g. 1.5."))
    order = await orders.find(call, order_id)
    if order.volunteer_id != call.user.id or order.status not in ("done", "closed"):
        raise NotAllowed(N_("Request #{number} is not yours."), number=order_id)
    order.hours = hours
    await call.uow.orders.record(order_id, call.user.id, "hours", hours=hours)
    await dialog_rules.close(call, "hours")
    await call.notify.tell(call.user, N_("Recorded {hours} h for request #{number}. Thank you!"),
                           hours=hours, number=order_id)
    await call.uow.commit()


async def release(call: Call, order_id: int) -> None:
    """The volunteer gives the order back to the team's group; the card is reset."""
    await _own_active(call, order_id)
    if not await call.uow.orders.transition(order_id, ACTIVE, "dispatched", where={"volunteer_id": call.user.id},
                                            volunteer_id=None):
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    order = await orders.find(call, order_id)
    await rules.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "released")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: waiting for a volunteer (released by {volunteer})",
                                         volunteer=call.user.first_name), accept_button=True)
    await centre.show_with_team(call, order, await call.uow.teams.get(order.team_id or 0))
    await call.notify.resident_status(await orders.resident_of(call, order), order,
                                      N_("The volunteer could not do request #{number}; "
                                         "we are finding another one."))
    await call.notify.tell(call.user, N_("You released request #{number}."), number=order_id)
    await call.uow.commit()


async def input_for_hours(call: Call, data: dict[str, object], inp: Input) -> None:
    await record_hours(call, int(str(data["order_id"])), inp.text or "")

async def keep(call: Call, order_id: int) -> None:
    """The volunteer answers the lease question "I still have it": a new lease starts now."""
    order = await call.uow.orders.get(order_id)
    if order is None or order.volunteer_id != call.user.id or order.status != "accepted":
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    await rules.order_moved(call, order)
    await call.notify.tell(call.user, N_("Thank you! Request #{number} stays yours."), number=order_id,
                           markup=call.notify.volunteer_keyboard(call.user, order))
    await call.uow.commit()
