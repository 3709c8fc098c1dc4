"""The resident's side: placing a request step by step (the order of the questions is
:mod:`bot.domain.request_steps`), listing and cancelling requests.

The dialog lives in the ``dialogs`` table (flow ``request``), so a restart of the bot, or a second
bot process, continues it at the same step.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from bot.domain import request_steps
from bot.domain.errors import Conflict, InvalidInput, LimitReached, NotFound
from bot.domain.inputs import Input
from bot.domain.lifecycle import OPEN, Move, OrderStatus
from bot.domain.phones import normalise_phone
from bot.i18n import N_, P_
from bot.services import centre, dialog_rules, orders, routing, timetable
from bot.services.context import ServiceContext
from storage.models import Building

FLOW = "request"
LIMITS = {"description": 1000, "community": 64, "building": 64, "detail": 200, "when": 64}
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
NOT_OPEN = N_("This request is no longer open. Tap New request to start again.")
OUT_OF_DATE = N_("This button is out of date.")


async def begin(ctx: ServiceContext, *, for_building: Building | None = None, description: str | None = None,
                voice_file_id: str | None = None, photo_file_id: str | None = None) -> None:
    """Start a new request (a half-finished one is discarded); ``for_building``: a building
    leader's request for a neighbour in that building; ``description`` (or ``voice_file_id``,
    ``photo_file_id``): what the person already wrote, said or showed outside a dialog, so that
    question is skipped."""
    draft: dict[str, Any]
    if for_building is not None:
        draft = {"on_behalf": True, "building_id": for_building.id, "community": for_building.community,
                 "building": for_building.name}
    else:
        draft = await _known_to_us(ctx)
    if description:
        draft["description"] = _checked(description, "description")
    draft.update({key: value for key, value in (("voice_file_id", voice_file_id), ("photo_file_id", photo_file_id))
                  if value})
    ctx.user.request_drafts = (ctx.user.request_drafts or 0) + 1
    draft["draft"] = ctx.user.request_drafts
    await _ask(ctx, draft, "category")


async def _known_to_us(ctx: ServiceContext) -> dict[str, Any]:
    """What the resident need not be asked again: their last request's name, phone and address
    ("same as last time"), else the community and building of the building link they came by."""
    user, draft = ctx.user, dict[str, Any]()
    if user.building_id is not None and (building := await ctx.uow.buildings.get(user.building_id)) is not None:
        draft.update(community=building.community, building=building.name)
    if user.home_community and user.home_building and user.home_detail:
        draft.update(community=user.home_community, building=user.home_building, detail=user.home_detail,
                     remembered=True)
    if user.home_phone:
        draft.update(contact_phone=user.home_phone, contact_name=user.home_name or user.first_name, remembered=True)
    return draft


async def _ask(ctx: ServiceContext, draft: dict[str, Any], step: str) -> None:
    if "draft" not in draft:  # a draft begun before drafts were numbered
        ctx.user.request_drafts = (ctx.user.request_drafts or 0) + 1
        draft["draft"] = ctx.user.request_drafts
    await ctx.uow.dialogs.set(ctx.user.id, FLOW, step, draft)
    await ctx.tell.resident.ask_request_step(ctx.user, step, draft)
    await ctx.uow.commit()


async def _next(ctx: ServiceContext, draft: dict[str, Any]) -> None:
    """Ask the first question the draft still lacks an answer for (the summary when none)."""
    await _ask(ctx, draft, request_steps.next_step(draft))


async def _draft(ctx: ServiceContext, number: int, *at: str) -> dict[str, Any]:
    """The open draft, if the button (of draft ``number``) belongs to it and the dialog waits at one
    of the steps ``at``: a button of an earlier draft, or of another step, is refused, so no button
    can skip a question."""
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != FLOW:
        raise Conflict(NOT_OPEN)
    draft = dict(dialog.data)
    if draft.get("draft") != number or dialog.step not in at:
        raise Conflict(OUT_OF_DATE)
    return draft


async def choose_category(ctx: ServiceContext, number: int, category: str) -> None:
    if category not in ctx.config.categories:
        raise InvalidInput(N_("Unknown kind of help; please choose one of the buttons."))
    draft = await _draft(ctx, number, "category")
    draft["category"] = category
    if request_steps.is_emergency(draft):  # before anything else: what to do if a life is at risk
        await ctx.tell.resident.emergency_first(ctx.user)
    await _next(ctx, draft)


async def other_time(ctx: ServiceContext, number: int) -> None:
    """"Another time" on the summary: the resident types the day and time."""
    draft = await _draft(ctx, number, "summary")
    if request_steps.is_emergency(draft):
        raise Conflict(OUT_OF_DATE)
    await _ask(ctx, draft, "when_text")


async def other_address(ctx: ServiceContext, number: int) -> None:
    """Not the remembered address: ask it again (what a building link tells stays)."""
    draft = await _draft(ctx, number, "summary")
    for field in ("community", "building", "detail"):
        draft.pop(field, None)
    if ctx.user.building_id is not None and (building := await ctx.uow.buildings.get(ctx.user.building_id)):
        draft.update(community=building.community, building=building.name)
    await _next(ctx, draft)


async def handle_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """Typed text, a voice note, a photo or a contact while the request dialog waits at ``step``."""
    draft = dict(data)
    if step == "description":
        if inp.voice_file_id:
            draft["voice_file_id"] = inp.voice_file_id
        elif inp.photo_file_id:
            draft["photo_file_id"] = inp.photo_file_id
            if inp.text and inp.text.strip():
                draft["description"] = _text(inp, "description")
        else:
            draft["description"] = _text(inp, "description")
    elif step in ("community", "building", "detail", "where"):
        draft["detail" if step == "where" else step] = _text(inp, "detail" if step == "where" else step)
    elif step == "when_text":
        draft["when"] = _text(inp, "when")
    elif step == "neighbour":
        draft["contact_name"] = _text(inp, "neighbour")
    elif step == "contact":
        _contact(ctx, draft, inp)
    else:  # waiting for a button: say so kindly and show it again
        await ctx.tell.resident.tap_a_button(ctx.user)
        await _ask(ctx, draft, step)
        return
    await _next(ctx, draft)


def _contact(ctx: ServiceContext, draft: dict[str, Any], inp: Input) -> None:
    if inp.contact_phone and draft.get("on_behalf"):  # a neighbour's contact card, perhaps
        draft["contact_phone"] = normalise_phone(inp.contact_phone)
        draft["contact_name"] = draft.get("contact_name") or inp.contact_name or ""
    elif inp.contact_phone:
        draft["contact_phone"] = normalise_phone(inp.contact_phone)
        draft["contact_name"] = inp.contact_name or ctx.user.first_name
    else:
        draft["contact_phone"] = normalise_phone(_text(inp, "contact"))
        draft.setdefault("contact_name", ctx.user.first_name)


def _text(inp: Input, field: str) -> str:
    return _checked(inp.text or "", field)


def _checked(text: str, field: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(N_("Please answer with a text message."))
    limit = LIMITS.get(field, 64)
    if len(text) > limit:
        raise InvalidInput(N_("That is too long; please keep it under {limit} characters."), limit=limit)
    return text


async def edit(ctx: ServiceContext, number: int) -> None:
    draft = await _draft(ctx, number, "summary")
    await _ask(ctx, draft, "edit")


async def edit_field(ctx: ServiceContext, number: int, field: str) -> None:
    draft = await _draft(ctx, number, "edit")
    if field not in request_steps.steps_for(draft):
        raise InvalidInput(N_("Please choose one of the buttons."))
    await _ask(ctx, draft, field)


async def abandon(ctx: ServiceContext, number: int) -> None:
    """Cancel the request being written (a Cancel button of an earlier draft, or one tapped while
    another flow's draft is open, leaves the draft alone)."""
    await dialog_rules.refuse_if_busy(ctx, FLOW)
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != FLOW:
        raise Conflict(NOT_OPEN)
    if dialog.data.get("draft") != number:
        raise Conflict(OUT_OF_DATE)
    await dialog_rules.close(ctx, FLOW)
    await ctx.tell.resident.request_abandoned(ctx.user)
    await ctx.uow.commit()


async def confirm(ctx: ServiceContext, number: int, choice: str) -> int:
    """Turn the finished draft into an order (for ``choice``: today, tomorrow, the typed time, or now
    for an emergency) and tell the resident and the coordinators.

    The dialog is ended by a conditional DELETE first, so two taps of Confirm place one request
    and the limits below are counted with nothing of this person's in flight; over a limit, the
    whole unit of work rolls back and the draft stays for a later Confirm."""
    draft = await _draft(ctx, number, "summary")
    allowed = request_steps.confirm_choices(draft)
    if not request_steps.is_emergency(draft):
        allowed = (*allowed, "today", "tomorrow")  # an earlier summary's day, applied as tapped
    if choice not in allowed or not request_steps.complete(draft):
        raise Conflict(OUT_OF_DATE)
    if not await ctx.uow.dialogs.finish(ctx.user.id, FLOW, "summary"):
        raise Conflict(NOT_OPEN)
    on_behalf = bool(draft.get("on_behalf"))
    await _within_limits(ctx, on_behalf)
    when, appointment = _when(ctx, draft, choice)
    order = await ctx.uow.orders.add(
        resident_id=ctx.user.id, status=OrderStatus.NEW, category=draft["category"],
        urgent=request_steps.is_emergency(draft), description=draft.get("description", ""),
        voice_file_id=draft.get("voice_file_id"), photo_file_id=draft.get("photo_file_id"),
        community=draft.get("community", ""), building=draft.get("building", ""),
        address_detail=draft["detail"], when_text=when, contact_name=draft["contact_name"],
        contact_phone=draft["contact_phone"], on_behalf=on_behalf,
        building_id=draft.get("building_id") or ctx.user.building_id, appointment_at=appointment,
    )
    if not on_behalf:
        _remember(ctx, draft)
    await ctx.tell.resident.order_received(ctx.user, order)
    await centre.announce(ctx, order, "created")
    await routing.route_new(ctx, order)
    await ctx.uow.commit()
    return order.id


def _when(ctx: ServiceContext, draft: dict[str, Any], choice: str) -> tuple[str, dt.datetime | None]:
    """The order's time as text, and the appointment it reads as (none for an emergency: it is now)."""
    local_now = ctx.now.astimezone(ctx.config.timezone)
    if choice == "now":
        return local_now.strftime("%Y-%m-%d %H:%M"), None
    when = draft["when"] if choice == "set" else \
        (local_now.date() + dt.timedelta(days=request_steps.DAYS[choice])).isoformat()
    return when, timetable.appointment_of(when, ctx.config.timezone, ctx.now)


def _remember(ctx: ServiceContext, draft: dict[str, Any]) -> None:
    """Keep the resident's own phone, and their address when it is a whole one (an emergency's
    one-line "where" is not), for "same as last time"."""
    user = ctx.user
    user.home_name, user.home_phone = draft["contact_name"], draft["contact_phone"]
    if draft.get("community") and draft.get("building"):
        user.home_community, user.home_building = draft["community"], draft["building"]
        user.home_detail = draft["detail"]


async def _within_limits(ctx: ServiceContext, on_behalf: bool) -> None:
    """Refuse kindly (:class:`LimitReached`) a request over the person's limits: open requests, and
    requests placed in the last minute and hour (a building leader's for neighbours apart)."""
    limits = ctx.config.requests
    most_open, per_minute, per_hour = ((limits.neighbour_open, limits.neighbour_per_minute, limits.neighbour_per_hour)
                                       if on_behalf else (limits.open_per_resident, limits.per_minute, limits.per_hour))
    now = ctx.now
    open_now = await ctx.uow.orders.count_placed(ctx.user.id, on_behalf, sorted(OPEN))
    if open_now >= most_open:
        raise LimitReached(P_("You already have {count} request in progress. Please wait until it is "
                              "finished, or cancel it under My requests, then tap the same button again. This "
                              "request is kept.",
                              "You already have {count} requests in progress. Please wait until one is "
                              "finished, or cancel one under My requests, then tap the same button again. This "
                              "request is kept."),
                           count=open_now)
    placed = await ctx.uow.orders.placed_since(ctx.user.id, on_behalf, now - HOUR)
    for window, most in ((MINUTE, per_minute), (HOUR, per_hour)):
        recent = [at for at in placed if at > now - window]
        if len(recent) >= most:
            free_at = recent[len(recent) - most] + window  # when enough of them have left the window
            minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))
            raise LimitReached(N_("You have sent several requests in a short time. Please wait {minutes} min, "
                                  "then tap the same button again. This request is kept."), minutes=minutes)


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
