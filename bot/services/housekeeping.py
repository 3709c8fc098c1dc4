"""Housekeeping: what only matters for a while is deleted once its while is over.

- **Handled update ids** (``processed_updates``) guard against Telegram delivering an update again,
  which it does only while the update is unconfirmed, for 24 hours at most, and tell whether a
  replayed parked update was handled meanwhile: kept ``processed_updates_days`` (at least 1, and at
  least ``[ingest] parked_retention_days``).
- **Finished outbox rows** (sent, failed, superseded) after ``outbox_days``, except those still
  needed: the message an edit may still change — the team cards (and those offered to other teams)
  and the centre's cards of every order that can still move, the question a dialog edits in place,
  any row a remaining edit targets — and each chat's latest delivered message, which tells
  :func:`~bot.services.privately.list_target` that a person started the bot.
- **Residents' contacts** on finished orders after ``contacts`` (``[privacy]
  contact_retention_days``): erased by :func:`bot.services.retention.erase_expired`.

Work goes in batches of ``batch_size``, each its own short transaction, with a pause between them,
so handlers (of this process and others; on SQLite, for its one write lock) get the database in
between. Several processes may prune at once: on PostgreSQL a batch locks its rows and skips those
another holds; on SQLite transactions take turns. A pass walks the old rows once, oldest first; a
sent message whose edits go in the same pass goes in the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.lifecycle import FINAL, OrderStatus
from bot.services import retention
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
FINISHED_OUTBOX = ("sent", "failed", "superseded")  # nothing will send these rows again
CARD_EVENTS = ("created", "reopened", "shown")  # the audit events that keep the centre's cards (bot.services.centre)
MOVABLE = tuple(sorted(status.value for status in OrderStatus if status not in FINAL))
Pause = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Retention:
    """How long things are kept, and how the pruning is paced (``[housekeeping]``, as plain values)."""

    processed_updates: dt.timedelta
    outbox: dt.timedelta
    batch_size: int
    batch_pause_seconds: float
    contacts: dt.timedelta = dt.timedelta(days=30)  # a finished order's contact ([privacy])


@dataclass
class PruneReport:
    processed_updates: int = 0
    outbox: int = 0
    batches: int = 0
    contacts: int = 0  # orders whose contact was erased


async def outbox_rows_in_use(uow: UnitOfWork) -> set[int]:
    """Outbox rows an edit may still need: the cards of orders that can still move (their team's, the
    other teams' the ladder offered, the centre's) and the messages dialogs edit in place."""
    rows: set[int] = set()
    for card, offers in await uow.orders.cards_in(MOVABLE):
        rows.update(int(row) for row in [card, *(offers or {}).values()] if row is not None)
    for detail in await uow.orders.event_details_in(MOVABLE, CARD_EVENTS):
        rows.update(int(row) for row in detail.get("centre_cards", ()))
    for dialog in await uow.dialogs.every():
        if dialog.data.get("msg"):  # a multi-select question of /join or the profile (bot.services.registration)
            rows.add(int(dialog.data["msg"]))
    return rows


class Housekeeper:
    """Prunes in batches; :meth:`prune` is one pass, :meth:`run` the running bot's loop of them."""

    def __init__(self, uow: Callable[[], UnitOfWork], retention: Retention, *, pause: Pause = asyncio.sleep) -> None:
        self._uow = uow
        self._retention = retention
        self._pause = pause
        self._stopped = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """End :meth:`run` (and a pass in progress, between two batches)."""
        self._stopped.set()

    async def run(self, interval_seconds: float, *, start_delay_seconds: float = 0.0) -> None:
        """A pass after ``start_delay_seconds``, then every ``interval_seconds``, until :meth:`stop`. A
        pass that fails (the database away for a moment) is logged by its error's type and the next
        one tries again."""
        await self._sleep(start_delay_seconds)
        while not self.stopping:
            try:
                await self.prune()
            except Exception as error:  # noqa: BLE001 - a background task must not die: the next pass retries
                log.warning("housekeeping: a pass failed (%s); the next one tries again", type(error).__name__)
            await self._sleep(interval_seconds)

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if :meth:`stop` is called meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def prune(self) -> PruneReport:
        """One pass over both tables (stops between two batches once :attr:`stopping` is set)."""
        report = PruneReport()
        async with self._uow().reading() as uow:  # on SQLite, no write lock for the look
            now = uow.now()
            in_use = await outbox_rows_in_use(uow)
        await self._prune_processed_updates(now - self._retention.processed_updates, report)
        for status in FINISHED_OUTBOX:
            await self._prune_outbox(status, now - self._retention.outbox, in_use, report)
        erased, batches = await retention.erase_expired(
            self._uow, self._retention.contacts, self._retention.batch_size,
            pause=lambda: self._pause(self._retention.batch_pause_seconds), stopping=lambda: self.stopping)
        report.contacts += erased
        report.batches += batches
        if report.processed_updates or report.outbox or report.contacts:
            log.info("housekeeping: %d update id(s) and %d outbox row(s) pruned, %d order contact(s) erased "
                     "in %d batch(es)", report.processed_updates, report.outbox, report.contacts, report.batches)
        return report

    async def _prune_processed_updates(self, seen_before: dt.datetime, report: PruneReport) -> None:
        limit = self._retention.batch_size
        while not self.stopping:
            async with self._uow() as uow:
                pruned = await uow.processed_updates.prune(seen_before, limit)
                await uow.commit()
            report.processed_updates += pruned
            report.batches += 1
            if pruned < limit:
                return
            await self._pause(self._retention.batch_pause_seconds)

    async def _prune_outbox(self, status: str, created_before: dt.datetime, in_use: set[int],
                            report: PruneReport) -> None:
        limit = self._retention.batch_size
        after: tuple[dt.datetime, int] | None = None
        while not self.stopping:
            async with self._uow() as uow:
                rows = await uow.outbox.prune_candidates(status, created_before, after, limit)
                pruned = await uow.outbox.prune([row_id for row_id, _ in rows if row_id not in in_use])
                await uow.commit()
            report.outbox += pruned
            report.batches += 1
            if len(rows) < limit:
                return
            after = (rows[-1][1], rows[-1][0])
            await self._pause(self._retention.batch_pause_seconds)
