"""The resident's side: placing a request step by step, listing and cancelling requests.

The dialog lives in the ``dialogs`` table (flow ``request``), so a restart of the bot, or a second
bot process, continues it at the same step.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from bot.domain.errors import Conflict, InvalidInput, LimitReached, NotFound
from bot.domain.inputs import Input
from bot.domain.lifecycle import OPEN, Move, OrderStatus
from bot.domain.phones import normalise_phone
from bot.domain.request_steps import NEIGHBOUR_STEPS, STEPS
from bot.i18n import N_
from bot.services import centre, dialog_rules, orders, routing, timetable
from bot.services.context import ServiceContext
from storage.models import Building

FLOW = "request"
LIMITS = {"description": 1000, "community": 64, "building": 64, "detail": 200, "when": 64}
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)


def steps_for(draft: dict[str, Any]) -> tuple[str, ...]:
    return NEIGHBOUR_STEPS if draft.get("on_behalf") else STEPS


async def begin(ctx: ServiceContext, *, for_building: Building | None = None) -> None:
    """Start a new request (a half-finished one is discarded); ``for_building``: a building
    leader's request for a neighbour in that building."""
    draft: dict[str, Any] = {}
    if for_building is not None:
        draft = {"on_behalf": True, "building_id": for_building.id, "community": for_building.community,
                 "building": for_building.name}
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, "category", draft)
    await ctx.tell.resident.ask_request_step(ctx.user, "category", draft)
    await ctx.uow.commit()


async def _draft(ctx: ServiceContext, *at: str) -> dict[str, Any]:
    """The open draft; with ``at``, only while the dialog waits at one of those steps (a button of
    another step, say of an earlier draft, would otherwise skip the steps in between)."""
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != FLOW:
        raise Conflict(N_("This request is no longer open. Tap New request to start again."))
    if at and dialog.step not in at:
        raise Conflict(N_("This button is out of date."))
    return dict(dialog.data)


async def _advance(ctx: ServiceContext, draft: dict[str, Any], done_step: str) -> None:
    """Go to the step after ``done_step`` (or back to the summary when editing one field)."""
    steps = steps_for(draft)
    step = "summary" if draft.get("editing") or done_step == steps[-1] else steps[steps.index(done_step) + 1]
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, step, draft)
    await ctx.tell.resident.ask_request_step(ctx.user, step, draft)
    await ctx.uow.commit()


async def choose_category(ctx: ServiceContext, category: str) -> None:
    if category not in ctx.config.categories:
        raise InvalidInput(N_("Unknown kind of help; please choose one of the buttons."))
    draft = await _draft(ctx, "category")
    draft["category"] = category
    await _advance(ctx, draft, "category")


async def choose_when(ctx: ServiceContext, choice: str) -> None:
    draft = await _draft(ctx, "when", "when_text")
    if choice == "other":
        await ctx.uow.dialogs.set(ctx.user.id, FLOW, "when_text", draft)
        await ctx.tell.resident.ask_request_step(ctx.user, "when_text", draft)
        await ctx.uow.commit()
        return
    days = {"today": 0, "tomorrow": 1}
    if choice not in days:
        raise InvalidInput(N_("Please choose one of the buttons."))
    local_day = ctx.now.astimezone(ctx.config.timezone).date() + dt.timedelta(days=days[choice])
    draft["when"] = local_day.isoformat()
    await _advance(ctx, draft, "when")


async def handle_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """Typed text, a voice note or a contact while the request dialog waits at ``step``."""
    draft = dict(data)
    if step == "description":
        if inp.voice_file_id:
            draft["voice_file_id"], draft["description"] = inp.voice_file_id, draft.get("description", "")
        else:
            draft["description"] = _text(inp, "description")
        await _advance(ctx, draft, "description")
    elif step in ("community", "building", "detail"):
        draft[step] = _text(inp, step)
        await _advance(ctx, draft, step)
    elif step in ("when", "when_text"):
        draft["when"] = _text(inp, "when")
        await _advance(ctx, draft, "when")
    elif step == "neighbour":
        draft["contact_name"] = _text(inp, "neighbour")
        await _advance(ctx, draft, "neighbour")
    elif step == "contact":
        if inp.contact_phone and draft.get("on_behalf"):  # a neighbour's contact card, perhaps
            draft["contact_phone"] = normalise_phone(inp.contact_phone)
            draft["contact_name"] = draft.get("contact_name") or inp.contact_name or ""
        elif inp.contact_phone:
            draft["contact_phone"] = normalise_phone(inp.contact_phone)
            draft["contact_name"] = inp.contact_name or ctx.user.first_name
        else:
            draft["contact_phone"] = normalise_phone(_text(inp, "contact"))
            draft.setdefault("contact_name", ctx.user.first_name)
        await _advance(ctx, draft, "contact")
    else:  # waiting for a button: show it again
        await ctx.tell.resident.ask_request_step(ctx.user, step, draft)
        await ctx.uow.commit()


def _text(inp: Input, field: str) -> str:
    text = (inp.text or "").strip()
    if not text:
        raise InvalidInput(N_("Please answer with a text message."))
    limit = LIMITS.get(field, 64)
    if len(text) > limit:
        raise InvalidInput(N_("That is too long; please keep it under {limit} characters."), limit=limit)
    return text


async def edit(ctx: ServiceContext) -> None:
    draft = await _draft(ctx, "summary")
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, "edit", draft)
    await ctx.tell.resident.ask_request_step(ctx.user, "edit", draft)
    await ctx.uow.commit()


async def edit_field(ctx: ServiceContext, field: str) -> None:
    draft = await _draft(ctx, "edit")
    if field not in steps_for(draft):
        raise InvalidInput(N_("Please choose one of the buttons."))
    draft["editing"] = True
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, field, draft)
    await ctx.tell.resident.ask_request_step(ctx.user, field, draft)
    await ctx.uow.commit()


async def abandon(ctx: ServiceContext) -> None:
    """Cancel the request being written (a stale Cancel button leaves another flow's draft alone)."""
    await dialog_rules.refuse_if_busy(ctx, FLOW)
    await dialog_rules.close(ctx, FLOW)
    await ctx.tell.resident.request_abandoned(ctx.user)
    await ctx.uow.commit()


async def confirm(ctx: ServiceContext) -> int:
    """Turn the finished draft into an order and tell the resident and the coordinators.

    The dialog is ended by a conditional DELETE first, so two taps of Confirm place one request
    and the limits below are counted with nothing of this person's in flight; over a limit, the
    whole unit of work rolls back and the draft stays for a later Confirm."""
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    draft = dict(dialog.data) if dialog is not None else {}
    if dialog is None or dialog.flow != FLOW or dialog.step != "summary" \
            or not await ctx.uow.dialogs.finish(ctx.user.id, FLOW, "summary"):
        raise Conflict(N_("This request is no longer open. Tap New request to start again."))
    await _within_limits(ctx, bool(draft.get("on_behalf")))
    order = await ctx.uow.orders.add(
        resident_id=ctx.user.id, status=OrderStatus.NEW, category=draft["category"],
        urgent=draft["category"] == "emergency", description=draft.get("description", ""),
        voice_file_id=draft.get("voice_file_id"), community=draft["community"], building=draft["building"],
        address_detail=draft["detail"], when_text=draft["when"], contact_name=draft["contact_name"],
        contact_phone=draft["contact_phone"], on_behalf=bool(draft.get("on_behalf")),
        building_id=draft.get("building_id") or ctx.user.building_id,
        appointment_at=timetable.appointment_of(draft["when"], ctx.config.timezone),
    )
    await ctx.tell.resident.order_received(ctx.user, order)
    await centre.announce(ctx, order, "created")
    await routing.route_new(ctx, order)
    await ctx.uow.commit()
    return order.id


async def _within_limits(ctx: ServiceContext, on_behalf: bool) -> None:
    """Refuse kindly (:class:`LimitReached`) a request over the person's limits: open requests, and
    requests placed in the last minute and hour (a building leader's for neighbours apart)."""
    limits = ctx.config.requests
    most_open, per_minute, per_hour = ((limits.neighbour_open, limits.neighbour_per_minute, limits.neighbour_per_hour)
                                       if on_behalf else (limits.open_per_resident, limits.per_minute, limits.per_hour))
    now = ctx.now
    open_now = await ctx.uow.orders.count_placed(ctx.user.id, on_behalf, sorted(OPEN))
    if open_now >= most_open:
        raise LimitReached(N_("You already have {count} requests in progress. Please wait until one is finished, "
                              "or cancel one under My requests, then tap Confirm again. This request is kept."),
                           count=open_now)
    placed = await ctx.uow.orders.placed_since(ctx.user.id, on_behalf, now - HOUR)
    for window, most in ((MINUTE, per_minute), (HOUR, per_hour)):
        recent = [at for at in placed if at > now - window]
        if len(recent) >= most:
            free_at = recent[len(recent) - most] + window  # when enough of them have left the window
            minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))
            raise LimitReached(N_("You have sent several requests in a short time. Please wait {minutes} min, "
                                  "then tap Confirm again. This request is kept."), minutes=minutes)


async def list_mine(ctx: ServiceContext) -> None:
    await ctx.tell.resident.my_orders(ctx.user, await ctx.uow.orders.of_resident(ctx.user.id))
    await ctx.uow.commit()


async def cancel(ctx: ServiceContext, order_id: int) -> None:
    """The resident cancels a request that is not done yet."""
    order = await ctx.uow.orders.get(order_id)
    if order is None or order.resident_id != ctx.user.id:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    if await orders.move(ctx, order_id, Move.CANCEL) is None:
        raise Conflict(N_("Request #{number} can no longer be cancelled."), number=order_id)
    await ctx.uow.commit()
