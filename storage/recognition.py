"""Recognition's storage: the month's figures behind a nomination, and the nominations themselves
(see :class:`storage.models.Nomination`). A decision is one conditional UPDATE whose row count
says whether this tap decided it: a double tap, or two coordinators at once, decide once.

Periods are UTC ``[start, end)`` bounds (the caller turns the centre's month into them); statuses
and event names come from the caller (storage never imports bot).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, func, select, update

from storage.ledger import ORDER
from storage.models import Activity, ActivitySignup, HoursEntry, Nomination, Order, OrderEvent, Rating
from storage.repositories import _Repository

Period = tuple[dt.datetime, dt.datetime]


class ServedRound(NamedTuple):
    """One round of an order a volunteer finished (its ledger entry): accepted at ``accepted_at``,
    done at ``done_at``; ``completed`` while the order is still done or closed in that round (not
    reopened); the round's rating, and when the order last became takeable before the accept."""

    user_id: int
    team_id: int
    order_id: int
    accepted_at: dt.datetime
    done_at: dt.datetime
    completed: bool
    stars: int | None
    rated: bool
    offered_at: dt.datetime | None


class Attended(NamedTuple):
    user_id: int
    team_id: int
    starts_at: dt.datetime


class RecognitionRepository(_Repository):
    # -- the month's figures -----------------------------------------------------------------------------
    async def served_rounds(self, period: Period, *, finished: Iterable[str],
                            offered: Iterable[str]) -> Sequence[ServedRound]:
        """Rounds done in ``period`` (the ledger's order entries by their done time), with whether the
        order is still ``finished`` in that round, the round's rating, and the last ``offered`` event
        (dispatched, released, …) of the order at or before the accept."""
        start, end = period
        offered_at = (select(func.max(OrderEvent.created_at))
                      .where(OrderEvent.order_id == HoursEntry.order_id, OrderEvent.event.in_(list(offered)),
                             OrderEvent.created_at <= HoursEntry.served_at)
                      .correlate(HoursEntry).scalar_subquery())
        rows = await self.session.execute(
            select(HoursEntry.user_id, HoursEntry.team_id, HoursEntry.order_id, HoursEntry.served_at,
                   HoursEntry.ended_at, Order.status, Order.round, HoursEntry.round, Rating.id, Rating.stars,
                   offered_at)
            .join(Order, Order.id == HoursEntry.order_id)
            .outerjoin(Rating, and_(Rating.order_id == HoursEntry.order_id, Rating.round == HoursEntry.round))
            .where(HoursEntry.source == ORDER, HoursEntry.team_id.is_not(None),
                   HoursEntry.ended_at >= start, HoursEntry.ended_at < end)
            .order_by(HoursEntry.ended_at, HoursEntry.id))
        finished = set(finished)
        return [ServedRound(user, team or 0, order or 0, accepted, done or accepted,
                            status in finished and current == served_round, stars, rating is not None, offered)
                for user, team, order, accepted, done, status, current, served_round, rating, stars, offered
                in rows.all()]

    async def attended(self, period: Period) -> Sequence[Attended]:
        """Everyone marked present at an activity that started in ``period``, with its team."""
        start, end = period
        rows = await self.session.execute(
            select(ActivitySignup.user_id, Activity.team_id, Activity.starts_at)
            .join(Activity, Activity.id == ActivitySignup.activity_id)
            .where(ActivitySignup.attendance == "present", Activity.starts_at >= start, Activity.starts_at < end)
            .order_by(Activity.starts_at, ActivitySignup.id))
        return [Attended(*row) for row in rows.all()]

    # -- nominations -----------------------------------------------------------------------------------------
    async def propose(self, month: str, kind: str, team_id: int, user_id: int | None, score: float,
                      figures: dict[str, Any]) -> Nomination | None:
        """A new proposed nomination; None when the month already has this one (keyed)."""
        inserted = await self._rowcount(
            self._insert(Nomination).values(month=month, kind=kind, team_id=team_id, user_id=user_id, score=score,
                                            figures=figures, status="proposed", cards=[], created_at=self.clock())
            .on_conflict_do_nothing(index_elements=["month", "kind", "team_id"]))
        if not inserted:
            return None
        return await self.session.scalar(select(Nomination).where(
            Nomination.month == month, Nomination.kind == kind, Nomination.team_id == team_id))

    async def get(self, nomination_id: int) -> Nomination | None:
        return await self.session.get(Nomination, nomination_id, populate_existing=True)

    async def of_month(self, month: str) -> Sequence[Nomination]:
        """A month's nominations: the five-star team first, then the stars by team."""
        return (await self.session.scalars(
            select(Nomination).where(Nomination.month == month)
            .order_by(Nomination.kind.desc(), Nomination.team_id, Nomination.id))).all()

    async def latest_month(self) -> str | None:
        return await self.session.scalar(select(func.max(Nomination.month)))

    async def decide(self, nomination_id: int, status: str, actor_id: int) -> bool:
        """``proposed`` → ``status`` (approved | rejected) by ``actor_id``, once: False when it was
        already decided (a double tap, another coordinator)."""
        return await self._rowcount(
            update(Nomination).where(Nomination.id == nomination_id, Nomination.status == "proposed")
            .values(status=status, decided_by=actor_id, decided_at=self.clock())
            .execution_options(synchronize_session=False)) == 1

    async def mark_posted(self, nomination_id: int) -> bool:
        """``approved`` → ``posted``: the announcement and the note are queued."""
        return await self._rowcount(
            update(Nomination).where(Nomination.id == nomination_id, Nomination.status == "approved")
            .values(status="posted").execution_options(synchronize_session=False)) == 1

    async def set_cards(self, nomination_id: int, cards: Sequence[str]) -> None:
        """The coordinators' cards of a nomination (``"<outbox row>:<language>"``), to edit once decided."""
        await self.session.execute(update(Nomination).where(Nomination.id == nomination_id)
                                   .values(cards=list(cards))
                                   .execution_options(synchronize_session=False))
