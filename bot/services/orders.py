"""The centre and the volunteers: dispatch, reject, accept, progress, release, rating.

Every status change is one conditional UPDATE (``orders.transition``) whose row count decides who
won; the loser gets a :class:`Conflict` and nothing else happens.
"""

from __future__ import annotations

from storage.models import Order, Team, User

from ..i18n import N_
from ..notify import REJECT_REASONS, Listing
from . import centre, dialog_rules, privately, reminders
from .redact import redact
from .call import Call
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .inputs import Input

DISPATCHABLE = ("new", "dispatched")
ACTIVE = ("accepted", "on_way")
POOR_RATING = 2


async def _order(call: Call, order_id: int) -> Order:
    order = await call.uow.orders.get(order_id)
    if order is None:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    return order


async def _resident(call: Call, order: Order) -> User:
    resident = await call.uow.users.get(order.resident_id)
    assert resident is not None
    return resident


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
    order = await _order(call, order_id)
    team = (await call.uow.teams.get(team_ref) if isinstance(team_ref, int)
            else await call.uow.teams.by_code(team_ref))
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_ref)
    if team.chat_id is None:
        raise Conflict(N_("Team {team} has no group yet: add me to its group and send /link {code} there."),
                       team=team.name, code=team.code)
    if not await call.uow.orders.transition(order_id, DISPATCHABLE, "dispatched", unless={"team_id": team.id},
                                            team_id=team.id):
        order = await _order(call, order_id)
        if order.status == "dispatched" and order.team_id == team.id:
            raise Conflict(N_("Request #{number} is already with team {team}; nothing was changed."),
                           number=order_id, team=team.name)
        raise Conflict(N_("Request #{number} cannot be dispatched now (it is {status})."),
                       number=order_id, status=order.status)
    order = await _order(call, order_id)  # read under our UPDATE: the card of whoever dispatched it before
    previous_card = order.card_outbox_id
    if previous_card is not None:
        _ = call.notify.group_tr()
        await call.notify.edit_card(order, _("Status: moved to another team"))
    order.card_outbox_id = await call.notify.post_card(order, team)
    order.offer_cards = None
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "dispatched", team=team.code)
    await call.notify.resident_status(await _resident(call, order), order,
                                      N_("Request #{number} was passed to the {team} team. "
                                         "A volunteer will take it soon."), team=team.name)
    await call.notify.to_coordinators(N_("Request #{number} → {team} (by {coordinator})."), number=order_id,
                                      team=team.name, coordinator=call.user.first_name)
    await centre.show_with_team(call, order, team)
    await call.uow.commit()
    return team


async def ask_reject_reason(call: Call, order_id: int) -> None:
    call.require_coordinator()
    order = await _order(call, order_id)
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
    order = await _order(call, order_id)
    if not await call.uow.orders.transition(order_id, DISPATCHABLE, "rejected"):
        raise Conflict(N_("Request #{number} cannot be rejected now (it is {status})."),
                       number=order_id, status=order.status)
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await dialog_rules.close(call, "reject")
    await call.uow.orders.record(order_id, call.user.id, "rejected", reason=reason)
    resident = await _resident(call, order)
    await call.notify.resident_status(resident, order, N_("Sorry, request #{number} was not accepted: {reason}"),
                                      reason=call.notify.tr(resident)(REJECT_REASONS.get(reason, reason)))
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: rejected by the centre"))
    await call.notify.to_coordinators(N_("Request #{number} rejected by {coordinator}."), number=order_id,
                                      coordinator=call.user.first_name)
    await call.uow.commit()


async def accept(call: Call, order_id: int, chat_id: int) -> None:
    """The first approved member of the order's team — or of a team the escalation ladder offered
    it to — to tap Accept takes it (for their team)."""
    order = await _order(call, order_id)
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
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "accepted")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: ✅ taken by {volunteer}", volunteer=call.user.first_name))
    await centre.show_with_team(call, order, team, taken_by=call.user.first_name)
    await call.notify.resident_status(await _resident(call, order), order,
                                      N_("Good news: volunteer {volunteer} has taken request #{number} "
                                         "and will contact you."), volunteer=call.user.first_name)
    await call.notify.volunteer_details(call.user, order)
    await call.uow.commit()


async def _own_active(call: Call, order_id: int) -> Order:
    order = await _order(call, order_id)
    if order.volunteer_id != call.user.id:
        raise NotAllowed(N_("Request #{number} is not yours."), number=order_id)
    return order


async def on_my_way(call: Call, order_id: int) -> None:
    await _own_active(call, order_id)
    if not await call.uow.orders.transition(order_id, ["accepted"], "on_way", where={"volunteer_id": call.user.id}):
        raise Conflict(N_("Request #{number} is no longer waiting for you."), number=order_id)
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "on_way")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: 🚶 {volunteer} is on the way", volunteer=call.user.first_name))
    await call.notify.resident_status(await _resident(call, order), order,
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
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "done")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: ✔️ done by {volunteer}", volunteer=call.user.first_name))
    await call.notify.ask_rating(await _resident(call, order), order, call.user.first_name)
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
    order = await _order(call, order_id)
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
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "released")
    _ = call.notify.group_tr()
    await call.notify.edit_card(order, _("Status: waiting for a volunteer (released by {volunteer})",
                                         volunteer=call.user.first_name), accept_button=True)
    await centre.show_with_team(call, order, await call.uow.teams.get(order.team_id or 0))
    await call.notify.resident_status(await _resident(call, order), order,
                                      N_("The volunteer could not do request #{number}; "
                                         "we are finding another one."))
    await call.notify.tell(call.user, N_("You released request #{number}."), number=order_id)
    await call.uow.commit()


async def rate(call: Call, order_id: int, stars: int) -> None:
    """The resident rates a done order (``stars`` 1–5, or 0 for "not solved"); poor ratings reopen it."""
    if not 0 <= stars <= 5:
        raise InvalidInput(N_("Please choose one of the buttons."))
    order = await _order(call, order_id)
    rated_round = order.round
    if order.resident_id != call.user.id:
        raise NotAllowed(N_("Only the person who made request #{number} can rate it."), number=order_id)
    if order.volunteer_id == call.user.id:
        raise NotAllowed(N_("You cannot rate a request you did yourself."))
    if order.status != "done":
        raise Conflict(N_("Request #{number} cannot be rated now."), number=order_id)
    if not await call.uow.ratings.add(order_id, rated_round, call.user.id, stars=stars or None, solved=stars > 0):
        raise Conflict(N_("You have already rated request #{number}."), number=order_id)
    poor = stars <= POOR_RATING
    if poor:
        moved = await call.uow.orders.transition(order_id, ["done"], "new", round=order.round + 1,
                                                 volunteer_id=None, team_id=None)
    else:
        moved = await call.uow.orders.transition(order_id, ["done"], "closed")
    if not moved:
        raise Conflict(N_("Request #{number} cannot be rated now."), number=order_id)
    order = await _order(call, order_id)
    await reminders.order_moved(call, order)
    await call.uow.orders.record(order_id, call.user.id, "rated", stars=stars)
    _ = call.notify.group_tr()
    verdict = "★" * stars if stars else _("not solved")
    await call.notify.edit_card(order, _("Status: done, rated {verdict}", verdict=verdict))
    if poor:
        await centre.announce(call, order, "reopened", reopened=True,
                       note=_("Rated {verdict} by the resident.", verdict=verdict))
        await call.notify.resident_status(call.user, order, N_("We are sorry. Request #{number} is reopened "
                                                               "and the centre will follow up."))
    # The comment is asked for only when it cannot take over another dialog (a request being written).
    if await dialog_rules.ask_follow_up(call, "comment", "comment", {"order_id": order_id, "round": rated_round}):
        await call.notify.ask_comment(call.user, order)
    else:
        await call.notify.tell(call.user, N_("Thank you for your rating! Please go on where you left off."))
    await call.uow.commit()


async def comment(call: Call, order_id: int, round_: int, text: str | None) -> None:
    """The optional comment after a rating (``None`` when skipped); a poor one goes to the centre."""
    rating = await call.uow.ratings.get(order_id, round_)
    if rating is None or rating.resident_id != call.user.id:
        raise Conflict(N_("There is nothing to comment on."))
    await dialog_rules.close(call, "comment")
    if text:
        rating.comment = text.strip()[:1000]
        if rating.stars is None or rating.stars <= POOR_RATING:
            await call.notify.to_coordinators(N_("Comment on reopened request #{number}: {comment}"),
                                              number=order_id, comment=redact(rating.comment))
    await call.notify.tell(call.user, N_("Thank you for your feedback!"),
                           markup=call.notify.menu_keyboard(call.user))
    await call.uow.commit()


async def skip_comment(call: Call, order_id: int) -> None:
    dialog = await call.uow.dialogs.get(call.user.id)
    if dialog is None or dialog.flow != "comment" or dialog.data.get("order_id") != order_id:
        raise Conflict(N_("There is nothing to comment on."))
    await comment(call, order_id, int(str(dialog.data["round"])), None)


async def input_for_reject(call: Call, data: dict[str, object], inp: Input) -> None:
    await reject(call, int(str(data["order_id"])), inp.text or "")


async def input_for_hours(call: Call, data: dict[str, object], inp: Input) -> None:
    await record_hours(call, int(str(data["order_id"])), inp.text or "")


async def input_for_comment(call: Call, data: dict[str, object], inp: Input) -> None:
    await comment(call, int(str(data["order_id"])), int(str(data["round"])), inp.text)
