"""The figures a readiness probe and a metrics scrape read from the database: the outbox backlog and
the schedule rows due. Counts and ages only, nothing personal; each is one indexed query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, ScheduledItem

UNFINISHED = ("pending", "sending")  # outbox rows not sent, failed or superseded yet


@dataclass(frozen=True)
class Backlog:
    outbox_pending: int  # outbox rows waiting or being sent
    oldest_pending_seconds: float | None  # age of the oldest of them; None when there is none
    schedule_due: int  # schedule rows due and not fired yet


async def ping(session: AsyncSession) -> None:
    """Raises when the database does not answer."""
    await session.execute(text("SELECT 1"))


async def backlog(session: AsyncSession, now: dt.datetime) -> Backlog:
    """The outbox backlog and the schedule rows due at ``now`` (ages measured from ``now``)."""
    pending, oldest = (await session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(UNFINISHED)))).one()
    due = await session.scalar(select(func.count()).select_from(ScheduledItem)
                               .where(ScheduledItem.state == "pending", ScheduledItem.due_at <= now)) or 0
    age = None if oldest is None else max(0.0, (now - _aware(oldest)).total_seconds())
    return Backlog(outbox_pending=int(pending), oldest_pending_seconds=age, schedule_due=int(due))


def _aware(moment: dt.datetime) -> dt.datetime:
    """Stored times are UTC; a backend that drops the zone gets it back."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
