"""The sweep: due schedule rows become messages, exactly once.

APScheduler (PTB's JobQueue, in memory, no job store) runs :meth:`Sweeper.sweep` every few seconds
with no arguments; everything it acts on is a row of ``schedule`` (:class:`ScheduledItem`). A
batch of due rows is taken under a row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two bot
processes share the work without waiting on each other; SQLite's write lock at BEGIN serialises
them) and each row's handler runs in a savepoint of that one transaction: its outbox rows, the
next step it schedules and the row's new state commit together. A process killed mid-batch
commits nothing, and the rows are due again for whoever sweeps next. A handler that raises is
retried with a growing delay and given up after ``MAX_ATTEMPTS``.

Handlers never commit. They return a short result (kept on the row), or raise :class:`Skipped`
(the row is recorded as skipped: its moment has passed, its order moved on) or :class:`Postpone`
(due again later: the recipient's quiet hours).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.services.context import ServiceContext
from bot.services.schedule.rules import Postpone, Skipped
from storage.errors import connection_lost
from storage.models import ScheduledItem, User
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
Handler = Callable[[ServiceContext, ScheduledItem], Awaitable[str]]
MAX_ATTEMPTS = 5
RETRY_DELAY = dt.timedelta(minutes=1)  # doubled after each failed attempt


@dataclass
class SweepReport:
    done: int = 0
    skipped: int = 0
    postponed: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.done + self.skipped + self.postponed + self.failed


def system_user() -> User:
    """The actor of scheduled work: not a row, never stored (events record no actor)."""
    return User(telegram_id=0, first_name="Volunteer Loop", language=None, is_coordinator=False)


class SweepDeps(Protocol):
    """What the sweep needs of the wiring (``bot.adapters.context.Deps`` is one)."""

    def uow(self, update_key: str | None = None) -> UnitOfWork: ...

    def service_context(self, uow: UnitOfWork, user: User) -> ServiceContext: ...


class Sweeper:
    def __init__(self, deps: SweepDeps, handlers: Mapping[str, Handler], *, batch_size: int = 50) -> None:
        self.deps = deps
        self.handlers = handlers
        self.batch_size = batch_size

    async def sweep(self) -> SweepReport:
        """Handle every item due now, batch by batch (each batch's messages reach the outbox sender
        when it commits: ``Deps.uow``)."""
        report = SweepReport()
        while True:
            taken = await self._batch(report)
            if taken < self.batch_size:
                break
        return report

    async def _batch(self, report: SweepReport) -> int:
        deps = self.deps
        async with deps.uow() as uow:
            now = uow.now()
            items = await uow.schedule.take_due(now, self.batch_size)
            for item in items:
                handler = self.handlers.get(item.kind)
                ctx = deps.service_context(uow, system_user())
                try:
                    if handler is None:
                        raise LookupError(f"no handler for {item.kind!r}")
                    async with uow.session.begin_nested():
                        result = await handler(ctx, item)
                    item.state, item.result, item.fired_at = "done", result[:128], now
                    report.done += 1
                except Skipped as skipped:
                    item.state, item.result, item.fired_at = "skipped", skipped.reason[:128], now
                    report.skipped += 1
                except Postpone as postpone:
                    item.due_at = postpone.until
                    report.postponed += 1
                except Exception as error:  # a bad row must not stop the others
                    if connection_lost(error):
                        raise  # the transaction itself is gone: nothing of this batch commits
                    item.attempts += 1
                    log.exception("schedule item %s (%s) failed, attempt %s", item.id, item.kind, item.attempts)
                    if item.attempts >= MAX_ATTEMPTS:
                        item.state, item.result, item.fired_at = "failed", type(error).__name__, now
                    else:
                        item.due_at = now + RETRY_DELAY * 2 ** (item.attempts - 1)
                    report.failed += 1
            await uow.commit()
            return len(items)
