"""An order's history for a coordinator (``/history N``, the 📜 button on the centre's card): the
order's own events (``order_events``: every move, escalation, the volunteer's figure) and any audit
events about it, oldest first, with the actors' first names and times in the centre's zone. Sent
privately (lists never go to a group where volunteers read), paged like the other lists.

Its export (📤 under the history, :func:`export`) is a JSON document without personal data, for
records kept beyond the contact's retention (docs/retention.md): the request's category, status and
times, and each event's time, code, the actor's role (never a name) and only the details known to
hold no personal data (team codes, ratings, rounds, escalation steps, hours, a reason button's code).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.errors import NotFound
from bot.i18n import N_
from bot.services.context import ServiceContext
from bot.services.privately import list_target
from bot.views.centre import REJECT_REASONS
from bot.views.history import Happening
from bot.views.lists import Listing
from storage.models import AuditEvent, Order, OrderEvent


async def show(ctx: ServiceContext, order_id: int, reply_chat_id: int | None = None, *, page: int = 0,
               row: int | None = None) -> None:
    ctx.require_coordinator()
    order = await ctx.uow.orders.get(order_id)
    if order is None:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    where = await list_target(ctx, reply_chat_id) if row is None else Listing(ctx.user.telegram_id, page, row)
    if where is not None:
        moves = [(e.created_at, 0, e.id, e.actor_id, e.event) for e in await ctx.uow.orders.events(order_id)]
        audit = [(e.created_at, 1, e.id, e.actor_id, e.event)
                 for e in await ctx.uow.audit.of_subject("order", order_id)]
        names: dict[int, str] = {}
        for actor_id in {a for _t, _k, _i, a, _e in moves + audit if a is not None}:
            actor = await ctx.uow.users.get(actor_id)
            names[actor_id] = actor.first_name if actor is not None else ""
        happenings = [Happening(at, event, names.get(actor) if actor is not None else None)
                      for at, _kind, _id, actor, event in sorted(moves + audit, key=lambda e: e[:3])]
        await ctx.tell.history.order(where, ctx.user, order_id, happenings, ctx.config.timezone)
    await ctx.uow.commit()


async def explain(ctx: ServiceContext) -> None:
    """The 📜 menu entry: how to see a request's history (it needs the request's number)."""
    ctx.require_coordinator()
    await ctx.tell(ctx.user, N_("Tap 📜 History on a request's card, or send /history and its number, e.g. "
                                "/history 42."))
    await ctx.uow.commit()


# Event details an export keeps: codes and numbers only (a typed rejection reason, the centre's
# card rows, anything else is left out).
EXPORTED_DETAILS = ("team", "routed", "stars", "round", "step", "hours")


async def export(ctx: ServiceContext, order_id: int, reply_chat_id: int | None = None) -> None:
    """The 📤 button under a request's history: the history as a JSON document without personal data."""
    ctx.require_coordinator()
    order = await ctx.uow.orders.get(order_id)
    if order is None:
        raise NotFound(N_("Request #{number} was not found."), number=order_id)
    where = await list_target(ctx, reply_chat_id)
    if where is not None:
        events: list[OrderEvent | AuditEvent] = [*await ctx.uow.orders.events(order_id),
                                                 *await ctx.uow.audit.of_subject("order", order_id)]
        coordinators: set[int] = set()
        for actor_id in {e.actor_id for e in events if e.actor_id is not None}:
            actor = await ctx.uow.users.get(actor_id)
            if actor is not None and actor.is_coordinator:
                coordinators.add(actor_id)
        team = await ctx.uow.teams.get(order.team_id) if order.team_id is not None else None
        document = anonymous(order, events, coordinators, team.code if team is not None else None)
        await ctx.tell.history.export(where.chat_id, ctx.user, order_id,
                                      json.dumps(document, ensure_ascii=False, indent=1))
    await ctx.uow.commit()


def anonymous(order: Order, events: Sequence[OrderEvent | AuditEvent], coordinators: set[int],
              team: str | None) -> dict[str, Any]:
    """An order's history with nothing that names or reaches a person (see the module docstring);
    ``events``: its ``order_events`` and audit events, ``coordinators``: which actors are."""
    def role(actor_id: int | None) -> str:
        if actor_id is None:
            return "bot"
        if actor_id == order.resident_id:
            return "resident"
        return "coordinator" if actor_id in coordinators else "volunteer"

    def detail(event: OrderEvent | AuditEvent) -> dict[str, Any]:
        kept = {key: event.detail[key] for key in EXPORTED_DETAILS
                if isinstance(event.detail.get(key), str | int | float) and not isinstance(event.detail[key], bool)}
        if isinstance(event, OrderEvent) and event.detail.get("reason") in REJECT_REASONS:
            kept["reason"] = event.detail["reason"]
        return kept

    ordered = sorted(events, key=lambda e: (e.created_at, not isinstance(e, OrderEvent), e.id))
    return {
        "request": order.id, "category": order.category, "urgent": order.urgent, "status": order.status,
        "round": order.round, "team": team, "no_response": order.no_response, "on_behalf": order.on_behalf,
        "placed_at": order.created_at.isoformat(), "updated_at": order.updated_at.isoformat(),
        "events": [{"at": e.created_at.isoformat(), "event": e.event, "by": role(e.actor_id), **detail(e)}
                   for e in ordered],
    }
