"""The unit of work: one session and its repositories; rolls back unless committed.

With an ``update_key`` (the inbound Telegram update), the key is recorded at the start of the
transaction. A second delivery of the same update then fails to insert it and gets
:class:`DuplicateUpdate`, so its effects can never be applied twice, and the key commits or rolls
back together with the effects of the first delivery.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.activities import ActivityRepository
from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.clock import Clock, utc_now
from storage.db import READ_ONLY, writer_turns
from storage.errors import taken_if_not_unique
from storage.ledger import LedgerRepository
from storage.measures import MeasuresRepository
from storage.models import ProcessedUpdate
from storage.pacing import PacingRepository
from storage.points import PointsRepository
from storage.privacy import PrivacyRepository
from storage.recognition import RecognitionRepository
from storage.repositories import (
    BuildingRepository,
    DialogRepository,
    OrderRepository,
    OutboxRepository,
    ParkedUpdateRepository,
    ProcessedUpdateRepository,
    RatingRepository,
    RouteRepository,
    ScheduleRepository,
    TeamRepository,
    UserRepository,
    VolunteerRepository,
)
from storage.summaries import SummaryRepository


class DuplicateUpdate(Exception):
    """This inbound update was already handled (or is being handled right now)."""


class UnitOfWork:
    """``async with UnitOfWork(...) as uow: ...; await uow.commit()``.

    ``read_only``: the work only reads, so on SQLite it takes no write lock (``BEGIN DEFERRED``)
    and never holds up a writer. ``after_commit`` is told the ids of the outbox rows the work
    queued, once they are committed (the outbox sender's fast path: no poll, no read)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now,
                 update_key: str | None = None, read_only: bool = False,
                 after_commit: Callable[[Sequence[int]], None] | None = None) -> None:
        self._sessions = sessions
        self.clock = clock
        self.update_key = update_key
        self.read_only = read_only
        self.after_commit = after_commit
        self.committed = False

    def reading(self) -> UnitOfWork:
        """This unit of work, marked read-only (for factories that make writers by default)."""
        self.read_only = True
        return self

    def now(self) -> dt.datetime:
        return self.clock()

    async def __aenter__(self) -> UnitOfWork:
        turns = None if self.read_only else writer_turns(self._sessions)
        self._turn = turns.turn() if turns is not None else contextlib.nullcontext()
        await self._turn.__aenter__()
        try:
            return await self._begin()
        except BaseException:
            await self._turn.__aexit__(None, None, None)
            raise

    async def _begin(self) -> UnitOfWork:
        self.session = self._sessions()
        self.users = UserRepository(self.session, self.clock)
        self.teams = TeamRepository(self.session, self.clock)
        self.buildings = BuildingRepository(self.session, self.clock)
        self.volunteers = VolunteerRepository(self.session, self.clock)
        self.orders = OrderRepository(self.session, self.clock)
        self.ratings = RatingRepository(self.session, self.clock)
        self.routes = RouteRepository(self.session, self.clock)
        self.dialogs = DialogRepository(self.session, self.clock)
        self.outbox = OutboxRepository(self.session, self.clock)
        self.pacing = PacingRepository(self.session, self.clock)
        self.schedule = ScheduleRepository(self.session, self.clock)
        self.parked = ParkedUpdateRepository(self.session, self.clock)
        self.activities = ActivityRepository(self.session, self.clock)
        self.attendance = AttendanceRepository(self.session, self.clock)
        self.ledger = LedgerRepository(self.session, self.clock)
        self.audit = AuditRepository(self.session, self.clock)
        self.recognition = RecognitionRepository(self.session, self.clock)
        self.points = PointsRepository(self.session, self.clock)
        self.measures = MeasuresRepository(self.session, self.clock)
        self.summaries = SummaryRepository(self.session, self.clock)
        self.processed_updates = ProcessedUpdateRepository(self.session, self.clock)
        self.privacy = PrivacyRepository(self.session, self.clock)
        if self.read_only:
            await self.session.connection(execution_options={READ_ONLY: True})
        if self.update_key is not None:
            try:
                self.session.add(ProcessedUpdate(key=self.update_key, seen_at=self.now()))
                await self.session.flush()
            except IntegrityError:
                await self.session.rollback()
                await self.session.close()
                raise DuplicateUpdate(self.update_key) from None
            except BaseException:
                # __aexit__ will not run: give the connection (and on SQLite the write lock that
                # BEGIN IMMEDIATE took) back now, also when cancelled while waiting for the lock.
                await self.session.close()
                raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if not self.committed:
                await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                await self._turn.__aexit__(None, None, None)

    async def flush(self) -> None:
        """Write the pending changes now (the transaction stays open); :class:`AlreadyTaken` when
        a unique value was taken meanwhile."""
        with taken_if_not_unique():
            await self.session.flush()

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True
        if self.after_commit is not None and self.outbox.queued:
            self.after_commit(list(self.outbox.queued))
        self.outbox.queued.clear()

    async def rollback(self) -> None:
        await self.session.rollback()
        self.outbox.queued.clear()
