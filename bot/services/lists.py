"""Page buttons of lists (``pg:<row>:<page>``): the list message's outbox row keeps what the list
shows; the list is built anew for the person tapping, with their permissions checked again by the
service that made it, and the message is edited in place."""

from __future__ import annotations

from typing import Any

from bot.domain.arguments import DATABASE_ID_MAX
from bot.domain.chats import is_group
from bot.domain.errors import Conflict
from bot.i18n import N_
from bot.services import buildings, dispatch, history, people, points, teams
from bot.services.context import ServiceContext

OUT_OF_DATE = N_("This list is out of date; send the command again.")


async def turn_page(ctx: ServiceContext, row_id: int, page: int, chat_id: int) -> None:
    """Show ``page`` of the list message ``row_id``, tapped in ``chat_id``. Only the coordinators'
    chat shares a list (``/orders``); every other list is turned only in its reader's private chat."""
    if not 0 < row_id <= DATABASE_ID_MAX:  # the outbox id column is 32-bit on PostgreSQL
        raise Conflict(OUT_OF_DATE)
    row = await ctx.uow.outbox.get(row_id)
    query: Any = row.payload.get("list") if row is not None and row.kind == "send" else None
    if row is None or not isinstance(query, dict) or row.chat_id != chat_id or page < 0 \
            or (is_group(chat_id) and query.get("kind") != "orders"):
        raise Conflict(OUT_OF_DATE)
    kind = query.get("kind")
    if kind == "orders":
        await dispatch.list_open(ctx, chat_id, page=page, row=row_id)
    elif kind == "find":
        await people.find_volunteers(ctx, str(query.get("skill")), query.get("community"), page=page, row=row_id)
    elif kind == "teams":
        ctx.require_coordinator()
        await teams.overview(ctx, None, page=page, row=row_id)
    elif kind == "team":
        await teams.overview(ctx, str(query.get("code")), page=page, row=row_id)
    elif kind == "businesses":
        await teams.list_businesses(ctx, page=page, row=row_id)
    elif kind == "redemptions":
        await points.per_business(ctx, str(query.get("month")), page=page, row=row_id)
    elif kind == "history" and isinstance(query.get("order"), int):
        await history.show(ctx, query["order"], page=page, row=row_id)
    elif kind == "buildings":
        ctx.require_coordinator()
        await buildings.overview(ctx, page=page, row=row_id)
    else:
        raise Conflict(OUT_OF_DATE)
