"""Retention: a resident's contact is kept only while a request needs it (docs/retention.md).

- **In the volunteer's chat**, when an order finishes (closed, cancelled, rejected) or leaves the
  volunteer who held it (released, lease expired, reopened by a poor rating): the details message
  with the contact is edited to a line without it and without buttons, the voice note and photo
  passed on with it are deleted, and the volunteer is told why (:func:`volunteer_chat`, a follow-up
  of the move). Telegram deletes a bot's message only within 48 hours of sending: older ones are
  left, and the volunteer is asked to delete them. A message not sent yet is never sent.
- **In the database**, ``[privacy] contact_retention_days`` after an order finished: its contact's
  name, phone and address, its voice note and photo are erased and the phone numbers in its
  description masked (:func:`erase_expired`, a step of the housekeeping pass: batches, several
  processes at once). What the reports count (category, community, building, times, ratings) stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.domain.lifecycle import FINAL, MOVES, Move
from bot.domain.redact import mask_phones
from bot.services.context import ServiceContext
from storage.models import Order
from storage.uow import UnitOfWork

DELETABLE_FOR = dt.timedelta(hours=47)
"""How old a sent voice note or photo may be for us to still ask Telegram to delete it (48 hours,
less an hour for the deletion's own wait in the outbox)."""
MEDIA = ("voice", "photo")
FINAL_STATUSES = tuple(sorted(status.value for status in FINAL))


def takes_contact_away(move: Move) -> bool:
    """Whether after ``move`` the volunteer who held the order no longer needs its contact."""
    rule = MOVES[move]
    return rule.target in FINAL or "volunteer_id" in rule.forgets


async def volunteer_chat(ctx: ServiceContext, order: Order, move: Move) -> None:
    """Redact the volunteer's private copy of the contact after ``move`` (if it takes it away)."""
    messages = order.volunteer_messages
    if not messages or not takes_contact_away(move):
        return
    order.volunteer_messages = None
    volunteer = await ctx.uow.users.get(int(messages.get("volunteer") or 0))
    if volunteer is None:
        return
    queued = {kind: int(messages[kind]) for kind in ("details", *MEDIA) if messages.get(kind)}
    withdrawn = {row for row in queued.values() if await ctx.uow.outbox.withdraw(row)}  # never sent: never goes
    rows = await ctx.uow.outbox.by_ids(row for row in queued.values() if row not in withdrawn)
    reached = {row_id: row for row_id, row in rows.items() if row.status != "failed"}
    details = queued.get("details")
    media, old_media = [], False
    for kind in MEDIA:
        row = reached.get(queued.get(kind, 0))
        if row is None:
            continue
        if row.status == "sent":
            await ctx.uow.outbox.keep_only(row.id, {"method": row.payload.get("method", "")})  # no file id kept
        if row.status == "sent" and row.sent_at is not None and ctx.now - row.sent_at >= DELETABLE_FOR:
            old_media = True
        else:
            media.append(row.id)
    if not reached:
        return  # nothing reached the volunteer: nothing to take back, nothing to explain
    await ctx.tell.volunteer.redact(volunteer, order, details if details in reached else None, media,
                                    finished=MOVES[move].target in FINAL, old_media=old_media)


def kept_description(description: str) -> str:
    """What an order's description keeps once its contact is erased: the request in the resident's
    words, phone numbers masked (as every group's card already showed it)."""
    return mask_phones(description)


async def erase_expired(uow: Callable[[], UnitOfWork], kept_for: dt.timedelta, batch_size: int, *,
                        pause: Callable[[], Awaitable[None]], stopping: Callable[[], bool]) -> tuple[int, int]:
    """Erase the contact of every order finished more than ``kept_for`` ago, ``batch_size`` orders
    per transaction, oldest first, pausing between batches; returns (orders erased, batches). Safe
    with several processes: a batch locks its rows (PostgreSQL skips those another holds) and each
    order is erased by a conditional UPDATE that a second eraser finds already done."""
    erased = batches = 0
    while not stopping():
        async with uow() as work:
            finished_before = work.now() - kept_for
            found = await work.orders.contacts_kept(FINAL_STATUSES, finished_before, batch_size)
            erased += await work.orders.erase_contacts(
                {order_id: kept_description(description) for order_id, description in found},
                FINAL_STATUSES, finished_before)
            await work.commit()
        batches += 1
        if len(found) < batch_size:
            break
        await pause()
    return erased, batches
