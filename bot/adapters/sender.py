"""The Telegram side of the outbox: :class:`OutboxSender` delivers queued messages and edits.

Every outgoing message or edit is an ``outbox`` row written in the same transaction as the change
that caused it (:class:`storage.repositories.OutboxRepository`). The sender turns rows into Bot API
calls, within Telegram's limits, and records what became of each.

Order
    A chat's rows go out in row order. Only a chat's oldest unfinished row may be claimed: the rule
    is in the claim's ``WHERE`` (``OutboxRepository.claim_heads``), not in memory, so it holds
    across processes too. Row N+1 waits until row N is sent, failed or superseded. An edit is
    queued behind the message it edits, so it never overtakes it. A row that is waiting (a
    retry_after window, a backoff) holds back the rest of its chat, and only its chat.

Finding rows: the fast path and the look at the whole outbox
    A unit of work made with ``after_commit=sender.notify`` (``Deps.uow``) tells the sender the ids
    of the rows it committed, and the sender claims them at once: no poll round, no read first.
    Once per ``poll_interval`` (and on :meth:`OutboxSender.kick`) the sender reads each chat's
    first unfinished rows in a read-only transaction (on SQLite no write lock). That finds the
    rows of other processes and the command line, and rows whose announcement was lost. What the
    sender remembers is only a list of candidates: every claim is checked by the database.

Claims, leases, at-least-once, transactions
    Rows are taken with one conditional ``UPDATE … RETURNING`` for many rows. When two senders (two
    bot processes on one PostgreSQL) go for the same row, only one wins. The claim is a lease
    (``lease`` seconds, ``[outbox] lease_seconds``, 60 by default). Sent rows are recorded
    together, in the transaction of the next claim or at the end of the round in one executemany
    (in :meth:`OutboxSender.run`, whose calls run side by side and each wake the next claim: once
    the burst's calls are done, or after :data:`RECORD_DELAY`), so a burst costs well under one
    transaction per message and a lone reply two. A sender killed between the claim and the record
    of the outcome leaves the row claimed. When the lease runs out, another sender sends it again;
    sooner when the same instance starts again: each claim records ``"<instance>#<boot>"``
    (``[outbox] instance``, the host's name by default) and a new boot first puts its earlier
    boots' rows back to pending (:meth:`OutboxSender.reclaim_earlier_boots`), so a resident whose
    confirmation was being sent at the crash gets it as soon as the bot is back. The lease is
    ``[outbox] lease_seconds``.
    The Bot API has no idempotency key, so delivery is **at-least-once**. A message can arrive
    twice when a sender dies after Telegram accepted it, or when the connection drops or times out
    after Telegram acted on the call (that call is retried). A message is never silently lost while
    attempts remain. ``lease`` must comfortably exceed one call (calls are cut off at ``lease / 2``,
    at most 30 s).

Taps
    While a tap is answered (:meth:`OutboxSender.answering`), the tapping person's chats and the
    rows the tap's handler queued wait for the answer, at most :data:`MAX_ANSWER_HOLD`; a 429 on the
    answer then holds everything (:meth:`OutboxSender.hold_all`). Nothing else waits for taps.

Pacing
    Windows on the injected clock: at most one message per ``1 / private_per_second`` s to a
    private chat, ``group_per_minute`` per rolling minute to a group (negative chat id) spread over
    the minute (``group_burst`` at once, then one every ``60 / group_per_minute`` s), and
    ``global_per_second`` per rolling second overall. Sends and edits count alike. The defaults
    are Telegram's limits themselves. A row that may not go yet is simply left pending.
    With ``[outbox] pacing = "database"`` (the default) the database decides: the claim's own
    transaction counts each claimed row in the shared windows of its chat and of the whole bot
    (:class:`storage.pacing.PacingRepository`) and puts back what they refuse, so several
    processes on one PostgreSQL keep the limits together, and a 429 (or :meth:`hold_all`) closes
    the chat (or everything) for every process. The windows kept in this process (a call counts
    from the moment its answer arrived, never earlier than Telegram counted it) remain the fast
    first filter: a row they hold back is not claimed at all. With ``pacing = "process"`` they are
    all there is: right for one process only (two would send twice the overall rate).

Errors
    * 429 (``RetryAfter``): the row is put back until now + retry_after + a margin, without counting
      an attempt. Nothing more goes to that chat before then. Other chats carry on.
    * 5xx, dropped connections, timeouts, any other unexpected error: exponential backoff (1 s, 2 s,
      4 s, ... at most 60 s). The row fails after ``max_attempts`` attempts.
    * "message is not modified": the edit is already in place, so the row is marked sent.
    * Any other 400: the row fails with Telegram's description.
    * 403 (blocked, never started, removed from the group): the row fails. The chat's other pending
      rows fail with it, in the same transaction and without calling Telegram: they would only
      repeat the 403, one call per second, for a backlog that no longer matters. Rows queued
      afterwards are tried normally, so a person who unblocks the bot needs nothing from here. For
      a private chat the user is marked unreachable. When that flag changes, ``on_unreachable(uow,
      chat_id)`` runs in the same transaction, so it happens exactly once per change.
    * Group upgraded to a supergroup (``ChatMigrated``): in one transaction the team's chat and
      every unsent row move to the new id. The row then goes to the new chat. An *edit* of a
      message in the old group fails, because that message stays behind in the old chat.

Logs name the row, the chat, the method and the error, never message text: it may hold a phone
number or an address.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import math
import re
import uuid
from bisect import insort
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import telegram
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    RetryAfter,
)

from bot.adapters.attachments import AttachmentRenderer
from bot.adapters.failures import log_failure
from bot.adapters.metrics import Metrics
from bot.settings import OutboxSettings
from storage.clock import Clock, utc_now
from storage.models import OutboxMessage
from storage.pacing import OVERALL, PACING_SLACK, PaceLimits, Settled
from storage.uow import UnitOfWork

__all__ = ["OutboxSender", "retry_after_seconds"]

log = logging.getLogger(__name__)
# Methods whose row names a chat only for pacing: the chat is inside their parameters (a menu's scope).
CHATLESS_METHODS = frozenset({"setmycommands", "deletemycommands"})
# Payload keys for us, not Telegram: the method, an attachment made at send time, a list's query
# (bot.views.lists.ListsView.send), a text kept after sending (storage.repositories.REREAD).
INTERNAL_KEYS = frozenset({"method", "attachment", "list", "reread"})

RETRY_MARGIN = 0.5
"""Seconds added to a 429's retry_after, against clock skew and Telegram's rounding."""
MAX_ANSWER_HOLD = 1.0
"""Seconds at most that a tap's chats and rows wait for the tap's answer (a slow answer never
starves them)."""
MAX_BACKOFF = 60.0
RECORD_DELAY = 0.2
"""Seconds a sent row of :meth:`OutboxSender.run` may wait to be recorded together with the calls
still going (a kill -9 meanwhile sends it again when its lease runs out: at-least-once)."""
TARGET_WAIT = 1.0
"""How soon to look again at an edit whose message has not been sent yet."""
GROUP_BURST = 3
"""Messages a quiet group may get at once; after them, one every ``60 / group_per_minute`` s."""
SCAN_PER_CHAT = 4
"""Rows per chat a look at the whole outbox remembers; the next look finds the ones after them."""
NOT_MODIFIED = "message is not modified"
_METHOD = re.compile(r"^[A-Za-z]+$")

OnUnreachable = Callable[[UnitOfWork, int], Awaitable[None]]
Sent = tuple[int, int, int | None, dt.datetime]  # row id, chat id, message id, when


class _RowResult(Enum):
    SKIPPED = "skipped"  # the database failed us: the claim runs out and the row is retried
    RESCHEDULED = "rescheduled"  # back to pending for later
    FINISHED = "finished"  # sent or failed


class _Window:
    """At most ``limit`` calls in any rolling ``period`` seconds. With ``burst``, also at most
    ``burst`` at once and then one every ``period / limit`` seconds (a token bucket), so a backlog
    is spread over the period instead of going out in one block followed by a long silence.
    Calls in flight hold a slot."""

    __slots__ = ("burst", "inflight", "limit", "period", "times", "tokens", "updated")

    def __init__(self, limit: int, period: float, burst: int | None = None) -> None:
        self.limit = max(1, limit)
        self.period = period
        self.times: deque[float] = deque()
        self.inflight = 0
        self.burst = None if burst is None else max(1, min(burst, self.limit))
        self.tokens = float(self.burst or 0)
        self.updated = -math.inf

    def _prune(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()

    def _refill(self, now: float) -> None:
        if self.burst is not None and now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.limit / self.period)
            self.updated = now

    def free_at(self, now: float) -> float:
        """The first moment (``now`` or later) when one more call may start."""
        self._prune(now)
        used = len(self.times) + self.inflight
        moment = now
        if used >= self.limit:
            index = used - self.limit  # the finished call whose expiry frees a slot
            if index < len(self.times):
                moment = max(now, self.times[index] + self.period + PACING_SLACK)
            else:
                moment = now + self.period  # only calls in flight hold the slots: look again later
        if self.burst is not None:
            self._refill(now)
            if self.tokens < 1.0:
                moment = max(moment, now + (1.0 - self.tokens) * self.period / self.limit + PACING_SLACK)
        return moment

    def slots(self, now: float) -> int:
        """How many calls may start now."""
        if self.free_at(now) > now:
            return 0
        free = self.limit - len(self.times) - self.inflight
        return free if self.burst is None else min(free, int(self.tokens))

    def take(self, now: float) -> None:
        self.inflight += 1
        if self.burst is not None:
            self._refill(now)
            self.tokens -= 1.0

    def release(self, finished_at: float | None) -> None:
        """The call ended (``finished_at``), or never started (``None``: the slot is returned)."""
        self.inflight -= 1
        if finished_at is not None:
            insort(self.times, finished_at)
        elif self.burst is not None:
            self.tokens = min(float(self.burst), self.tokens + 1.0)

    def idle(self, now: float) -> bool:
        """Nothing in the window: forgetting it changes nothing (a full minute has passed since a
        group's last call, so its bucket is full again too)."""
        self._prune(now)
        return not self.times and not self.inflight


@dataclass(frozen=True)
class _Queued:
    """A row this sender believes unfinished, and when it may be taken (due, or its lease over)."""

    row_id: int
    ready_at: float


@dataclass
class _Hold:
    """A tap being answered: its chats and the rows its handler queued wait for the answer."""

    chats: frozenset[int]
    since: float
    rows: set[int] = field(default_factory=set)


_TAP: contextvars.ContextVar[_Hold | None] = contextvars.ContextVar("outbox_tap_hold", default=None)


@dataclass(frozen=True)
class _Job:
    """One claimed row (plain values: the session is gone)."""

    row_id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    attempts: int
    target_status: str | None = None
    target_chat_id: int | None = None
    target_message_id: int | None = None
    counted_at: float | None = None  # when the shared windows counted it (pacing = "database")

    @property
    def method(self) -> str:
        return str(self.payload.get("method") or ("editMessageText" if self.kind == "edit" else "sendMessage"))

    @classmethod
    def of(cls, row: OutboxMessage, target: OutboxMessage | None) -> _Job:
        job = cls(row.id, row.kind, row.chat_id, dict(row.payload or {}), row.attempts)
        if target is None:
            return job
        return replace(job, target_status=target.status, target_chat_id=target.sent_chat_id,
                       target_message_id=target.message_id)


class OutboxSender:
    """Delivers outbox rows to Telegram within its limits (see the module docstring)."""

    def __init__(self, bot: telegram.Bot, uow_factory: Callable[[], UnitOfWork], settings: OutboxSettings,
                 *, clock: Clock = utc_now, on_unreachable: OnUnreachable | None = None,
                 lease: float = 60.0, concurrency: int = 8, attachments: AttachmentRenderer | None = None,
                 instance: str | None = None, metrics: Metrics | None = None) -> None:
        self.bot = bot
        self.metrics = metrics or Metrics()
        self.uow_factory = uow_factory
        self.settings = settings
        self.clock = clock
        self.on_unreachable = on_unreachable
        self.attachments = attachments or AttachmentRenderer()
        self.lease = dt.timedelta(seconds=lease)
        # This boot of this instance: written into every claim, so the next boot knows its rows.
        self.instance = instance
        self.claimant = f"{instance}#{uuid.uuid4().hex[:12]}" if instance is not None else None
        self.call_timeout = min(lease / 2, 30.0)
        self.concurrency = max(1, concurrency)
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._calls: dict[asyncio.Task[_RowResult], _Job] = {}  # calls of run() in progress
        self._scan_log: list[tuple[int, int, float]] | None = None  # rows queued while a scan reads
        self._global = _Window(settings.global_per_second, 1.0)
        self._chats: dict[int, _Window] = {}
        self._retry_until: dict[int, float] = {}  # chat -> end of its retry_after window
        self._hold_until = 0.0  # a retry_after window that covers every chat
        # The windows shared through the database ([outbox] pacing = "database"); None: this process's only.
        self._shared = PaceLimits(settings.private_per_second, settings.group_per_minute, settings.group_burst,
                                  settings.global_per_second, settings.pacing_margin_seconds) \
            if settings.pacing == "database" else None
        self._sharing: set[asyncio.Task[None]] = set()  # hold_all's windows being written to the database
        self._holds: list[_Hold] = []  # taps being answered right now
        self._queues: dict[int, list[_Queued]] = {}  # chat -> rows believed unfinished, oldest first
        self._hints: set[int] = set()  # rows just committed, chat not known yet (the fast path)
        self._sent: list[Sent] = []  # sent rows not yet recorded: written with the next transaction
        self._settled: list[Settled] = []  # answered calls for the shared windows, written likewise
        self._next_scan = -math.inf
        self._next_wake: float | None = None
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._running = False

    # -- the public face --------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Deliver what is due now and allowed by pacing; returns how many rows finished
        (sent or failed). Rows that must wait stay pending; :attr:`next_wakeup` says when to look.
        The whole outbox is read at most once per ``poll_interval`` (or after :meth:`kick`); rows
        announced by :meth:`notify` are claimed without reading anything first."""
        await self._start_round()
        finished = 0
        for _ in range(max(1, self.settings.batch_size)):
            outcomes = await self._pass()
            if not outcomes:
                break
            finished += sum(1 for o in outcomes if o is _RowResult.FINISHED)
        await self._record_sent()
        self._forget_idle(self._now())
        return finished

    @property
    def next_wakeup(self) -> dt.datetime | None:
        """The moment the last :meth:`run_once` found something might become sendable (a pacing
        window, a retry_after window, a backoff it set); None when it knows of nothing."""
        if self._next_wake is None:
            return None
        return dt.datetime.fromtimestamp(math.ceil(self._next_wake * 1e6) / 1e6, dt.UTC)

    async def run(self) -> None:
        """Deliver until :meth:`stop`: a round, then wait for :meth:`notify`, :meth:`kick`,
        ``poll_interval`` or the next pacing or retry moment, whichever comes first. A failing
        round (the database is down, say) is logged and retried with backoff. A stopped sender
        stays stopped (so a :meth:`stop` that comes before the task starts still counts)."""
        if self._running:
            raise RuntimeError("this OutboxSender is already running")
        self._running = True
        self._stopped.clear()
        with contextlib.suppress(Exception):  # the database may be away: then the leases run out
            await self.reclaim_earlier_boots()
        failures = 0
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self._round()
                    failures = 0
                    timeout = self._wait_time()
                except Exception as error:  # noqa: BLE001 - the loop outlives a round's failure, backing off
                    failures += 1
                    log_failure(log, error, "outbox: delivery round failed (%d in a row)", failures)
                    timeout = min(MAX_BACKOFF, self.settings.poll_interval * 2 ** failures)
                if self._stopping:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            await asyncio.gather(*self._calls, *self._sharing, return_exceptions=True)
            with contextlib.suppress(Exception):  # the database may be away: the leases run out
                await self._record_sent()
            self._running = False
            self._stopped.set()

    async def _round(self) -> None:
        """:meth:`run`'s round: like :meth:`run_once`, but the calls are not waited for. Each runs
        on its own and wakes the loop when it ends, so the next claim (which records it, and may
        take its chat's next row) follows at once, while other chats' calls are still going: one
        slow call holds up only its own chat."""
        await self._start_round()
        while len(self._calls) < self.concurrency:
            jobs = await self._claim(busy={job.chat_id for job in self._calls.values()},
                                     limit=self.concurrency - len(self._calls))
            if not jobs:
                break
            for job in jobs:
                call = asyncio.create_task(self._attempt(job), name=f"outbox-row-{job.row_id}")
                self._calls[call] = job
                call.add_done_callback(self._call_ended)
        if self._sent or self._settled:
            # Sent rows are recorded with the next claim; when none comes, with the others still
            # being sent once they are all done, or after RECORD_DELAY at the latest.
            due = (self._sent[0][3].timestamp() if self._sent else self._settled[0].answered) + RECORD_DELAY
            if not self._calls or self._now() >= due:
                await self._record_sent()
            else:
                self._note_wake(due)
        self._forget_idle(self._now())

    async def _start_round(self) -> None:
        """Forget the last round's wake-up moment; read the whole outbox when it is time to."""
        self._next_wake = None
        now = self._now()
        if now >= self._next_scan:
            await self._scan(now)

    def _call_ended(self, call: asyncio.Task[_RowResult]) -> None:
        self._calls.pop(call, None)
        self._wake.set()

    def notify(self, row_ids: Sequence[int]) -> None:
        """These rows were just committed (``UnitOfWork(after_commit=...)``): claim them now, with
        no read of the outbox first. Rows queued while a tap is answered wait for the answer."""
        hold = _TAP.get()
        if hold is not None and hold in self._holds:
            hold.rows.update(row_ids)
        self._hints.update(row_ids)
        self.metrics.outbox_queued.inc(len(row_ids))
        self._wake.set()

    async def reclaim_earlier_boots(self) -> int:
        """Take back at once the rows an earlier boot of this instance was sending when it died
        (killed between claim and record), instead of leaving the people waiting for the lease."""
        if self.instance is None or self.claimant is None:
            return 0
        async with self.uow_factory() as uow:
            taken = await uow.outbox.reclaim_earlier_boots(self.instance, self.claimant, self.clock())
            await uow.commit()
        if taken:
            log.warning("outbox: %d rows an earlier run was sending are sent again (at-least-once)", taken)
            self.kick()
        return taken

    def kick(self) -> None:
        """Something was committed that :meth:`notify` did not hear of: read the whole outbox now."""
        self._next_scan = -math.inf
        self._wake.set()

    @contextlib.asynccontextmanager
    async def answering(self, *chat_ids: int | None) -> AsyncIterator[None]:
        """While a tap is handled and answered, the tapping person's chats (``chat_ids``) and the
        rows the tap's handler queues wait: the answer goes first, and a 429 on it (which
        :meth:`hold_all` then respects) is not overtaken by what the tap caused. Nothing else
        waits for the tap, and the hold never lasts longer than :data:`MAX_ANSWER_HOLD`."""
        hold = _Hold(frozenset(c for c in chat_ids if c is not None), self._now())
        self._holds.append(hold)
        token = _TAP.set(hold)
        try:
            yield
        finally:
            _TAP.reset(token)
            self._holds.remove(hold)
            self._wake.set()

    def hold_all(self, seconds: float) -> None:
        """Telegram answered a call made outside the outbox (a callback answer, say) with 429:
        send nothing to anyone until the window has passed."""
        self._hold_until = max(self._hold_until, self._now() + seconds + RETRY_MARGIN)
        if self._shared is not None:
            task = asyncio.get_running_loop().create_task(self._share_hold(OVERALL, self._hold_until))
            self._sharing.add(task)
            task.add_done_callback(self._sharing.discard)

    async def _share_hold(self, chat_id: int, until: float) -> None:
        """Tell the other processes of a retry_after window (shared pacing)."""
        try:
            async with self.uow_factory() as uow:
                await uow.pacing.hold(chat_id, until)
                await uow.commit()
        except Exception as error:  # noqa: BLE001 - this process still keeps the window itself
            log_failure(log, error, "outbox: a retry_after window could not be shared")

    async def stop(self) -> None:
        """Stop :meth:`run` once the calls in progress are recorded, and wait for that."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    # -- bookkeeping ------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock().timestamp()

    def _at(self, moment: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(moment, dt.UTC)

    def _note_wake(self, moment: float) -> None:
        if self._next_wake is None or moment < self._next_wake:
            self._next_wake = moment

    def _wait_time(self) -> float:
        poll = self.settings.poll_interval
        if self._next_wake is None:
            return poll
        return min(poll, max(0.001, self._next_wake - self._now()))

    def _window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_id < 0:
                window = _Window(self.settings.group_per_minute, 60.0, burst=self.settings.group_burst)
            else:
                window = _Window(1, 1.0 / self.settings.private_per_second)
            self._chats[chat_id] = window
        return window

    def _live_holds(self, now: float) -> list[_Hold]:
        holds = [h for h in self._holds if now < h.since + MAX_ANSWER_HOLD]
        for hold in holds:
            self._note_wake(hold.since + MAX_ANSWER_HOLD)
        return holds

    def _free_at(self, chat_id: int, now: float) -> float:
        """When a call to ``chat_id`` may start: its retry window, its pacing and the overall pacing."""
        return max(self._retry_until.get(chat_id, now), self._window(chat_id).free_at(now),
                   self._global.free_at(now))

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, w in self._chats.items() if w.idle(now)]:
            del self._chats[chat_id]
        for chat_id in [c for c, until in self._retry_until.items() if until <= now]:
            del self._retry_until[chat_id]
        for chat_id in [c for c, queue in self._queues.items() if not queue]:
            del self._queues[chat_id]

    def _enqueue(self, chat_id: int, row_id: int, ready_at: float) -> None:
        """Remember an unfinished row of ``chat_id`` (again), in row order."""
        if self._scan_log is not None:  # a call ended while the outbox is read: keep it past the read
            self._scan_log.append((chat_id, row_id, ready_at))
        queue = [q for q in self._queues.get(chat_id, []) if q.row_id != row_id]
        insort(queue, _Queued(row_id, ready_at), key=lambda q: q.row_id)
        self._queues[chat_id] = queue

    def _dequeue(self, chat_id: int, row_id: int) -> None:
        queue = self._queues.get(chat_id)
        if queue:
            self._queues[chat_id] = [q for q in queue if q.row_id != row_id]

    # -- reading and claiming ---------------------------------------------------------------------
    async def _scan(self, now: float) -> None:
        """Read the whole outbox (a read-only transaction: on SQLite no write lock): each chat's
        first unfinished rows. Rows of other processes, of the command line, and rows whose
        announcement was lost are found here."""
        self._next_scan = now + self.settings.poll_interval  # before reading: a kick meanwhile counts
        self._scan_log = []
        try:
            async with self.uow_factory().reading() as uow:
                rows = await uow.outbox.unfinished(per_chat=SCAN_PER_CHAT,
                                                   limit=max(1, self.settings.batch_size) * SCAN_PER_CHAT)
        except BaseException:
            self._next_scan = -math.inf
            self._scan_log = None
            raise
        logged, self._scan_log = self._scan_log, None
        # This sender's calls in progress, and rows sent but not recorded yet, are its own business:
        # as candidates they would hold their chats until the lease ran out.
        own = {job.row_id for job in self._calls.values()} | {sent[0] for sent in self._sent}
        self._queues = {}
        for row_id, chat_id, moment in rows:
            if row_id not in own:
                self._enqueue(chat_id, row_id, moment.timestamp() if moment is not None else now)
        for chat_id, row_id, ready_at in logged:  # put back or retried while the read was under way
            self._enqueue(chat_id, row_id, ready_at)

    def _waiting(self, now: float, holds: list[_Hold]) -> set[int]:
        """The chats that may not get a call now (noting when each may)."""
        held = {c for h in holds for c in h.chats}
        waiting = set()
        for chat_id in set(self._chats) | set(self._retry_until):
            free = self._free_at(chat_id, now)
            if free > now:
                waiting.add(chat_id)
                self._note_wake(free)
        return waiting | held

    async def _pass(self) -> list[_RowResult]:
        """Claim what may go now, then make the calls and wait for them (:meth:`run_once`)."""
        jobs = await self._claim()
        return list(await asyncio.gather(*(self._attempt(job) for job in jobs)))

    async def _claim(self, *, busy: set[int] | None = None, limit: int | None = None) -> list[_Job]:
        """Claim what may go now: the first known row of each free chat and the announced rows,
        in one statement, with the sent rows recorded so far in the same transaction. ``busy``:
        chats with a call in progress, which wait for it; ``limit``: at most this many rows."""
        now = self._now()
        if self._hold_until > now:
            self._note_wake(self._hold_until)
            return []
        slots = self._global.slots(now)
        if limit is not None:
            slots = min(slots, limit)
        if slots <= 0:
            self._note_wake(self._global.free_at(now))
            return []
        holds = self._live_holds(now)
        held_rows = {r for h in holds for r in h.rows}
        waiting = self._waiting(now, holds) | (busy or set())
        candidates: dict[int, int] = {}  # row -> chat
        for chat_id, queue in self._queues.items():
            if chat_id in waiting or not queue or queue[0].row_id in held_rows:
                continue
            if queue[0].ready_at > now:
                self._note_wake(queue[0].ready_at)
                continue
            candidates[queue[0].row_id] = chat_id
        hints = sorted(self._hints - held_rows - set(candidates))
        row_ids = (sorted(candidates) + hints)[:slots]
        if not row_ids:
            return []
        announced = [r for r in row_ids if r in self._hints]
        sent, self._sent = self._sent, []
        settled, self._settled = self._settled, []
        try:
            async with self.uow_factory() as uow:
                await uow.outbox.mark_sent_many(sent)
                rows = await uow.outbox.claim_heads(row_ids, self._at(now), self.lease,
                                                    exclude_chats=waiting if announced else (),
                                                    claimant=self.claimant)
                rows, refused = await self._reserve(uow, rows, now, settled)
                claimed = {row.id for row in rows}
                unknown = [r for r in announced if r not in claimed and r not in refused]
                placed = await uow.outbox.unfinished(row_ids=unknown) if unknown else []
                targets = await uow.outbox.by_ids({r.target_id for r in rows if r.kind == "edit" and r.target_id})
                counted = now + self._shared.margin if self._shared is not None else None
                jobs = [replace(_Job.of(row, targets.get(row.target_id) if row.target_id else None),
                                counted_at=counted) for row in rows]
                await uow.commit()
        except BaseException:
            self._sent = sent + self._sent  # recorded with the next transaction instead
            self._settled = settled + self._settled
            raise
        self._hints.difference_update(row_ids)
        for row_id, chat_id, moment in placed:
            self._enqueue(chat_id, row_id, moment.timestamp() if moment is not None else now)
        for row_id, (chat_id, ready_at) in refused.items():
            self._enqueue(chat_id, row_id, ready_at)
            self._note_wake(ready_at)
        for row_id, chat_id in candidates.items():
            if row_id not in claimed and row_id not in refused and row_id in row_ids:
                # Taken or finished elsewhere, or behind a row this sender does not know of: the
                # next look at the outbox tells.
                self._queues.pop(chat_id, None)
        for job in jobs:
            self._dequeue(job.chat_id, job.row_id)
        if len(claimed) + len(refused) < len(row_ids):
            self._next_scan = min(self._next_scan, now + self.settings.poll_interval)
        return jobs

    async def _reserve(self, uow: UnitOfWork, rows: Sequence[OutboxMessage], now: float,
                       settled: Sequence[Settled]) -> tuple[list[OutboxMessage], dict[int, tuple[int, float]]]:
        """Shared pacing: the claimed rows the database's windows let go now, and the others (row ->
        its chat and when it may go), put back to pending in the claim's own transaction. The
        answered calls are counted at their answers first."""
        if self._shared is None or not (rows or settled):
            return list(rows), {}
        later = await uow.pacing.reserve([row.chat_id for row in rows], now, self._shared, settled)
        refused = {row.id: (row.chat_id, later[row.chat_id]) for row in rows if row.chat_id in later}
        await uow.outbox.put_back_many((row_id, self._at(moment)) for row_id, (_, moment) in refused.items())
        return [row for row in rows if row.id not in refused], refused

    async def _record_sent(self) -> None:
        """Record the sent rows (and the answered calls, shared pacing) not recorded yet, in one
        transaction."""
        if not self._sent and not self._settled:
            return
        sent, self._sent = self._sent, []
        settled, self._settled = self._settled, []
        try:
            async with self.uow_factory() as uow:
                await uow.outbox.mark_sent_many(sent)
                if self._shared is not None and settled:
                    await uow.pacing.reserve((), self._now(), self._shared, settled)
                await uow.commit()
        except BaseException:
            self._sent = sent + self._sent
            self._settled = settled + self._settled
            raise

    async def _attempt(self, job: _Job) -> _RowResult:
        try:
            async with self._semaphore:
                return await self._deliver(job)
        except Exception as error:  # noqa: BLE001 - one row's failure must not stop the others
            # The database failed us mid-row: the claim runs out and the row is retried.
            log_failure(log, error, "outbox row %s (chat %s, %s): delivery step failed", job.row_id, job.chat_id,
                        job.method)
            return _RowResult.SKIPPED

    # -- one row --------------------------------------------------------------------------------
    async def _deliver(self, job: _Job) -> _RowResult:
        now = self._now()
        destination, message_id = job.chat_id, None
        problem = None
        if job.kind == "edit":
            if job.target_status in ("pending", "sending"):
                return await self._put_back(job, now + TARGET_WAIT)  # its message is not out yet
            if job.target_status != "sent" or job.target_chat_id is None or job.target_message_id is None:
                problem = f"the message to edit was never sent (its row is {job.target_status or 'missing'})"
            else:
                destination, message_id = job.target_chat_id, job.target_message_id
        if not _METHOD.match(job.method):
            problem = "payload has no valid Bot API method"
        if problem is not None:
            log.warning("outbox row %s (chat %s, %s) failed: %s", job.row_id, job.chat_id, job.method, problem)
            return await self._fail(job.row_id, problem)

        free = self._free_at(destination, now)
        if free > now:  # an edit of a message in another chat than its row's, say
            return await self._put_back(job, free)
        windows = (self._window(destination), self._global)
        for window in windows:
            window.take(now)
        finished_at: float | None = None
        try:
            params = {k: v for k, v in job.payload.items() if k not in INTERNAL_KEYS}
            if job.method.lower() not in CHATLESS_METHODS:
                params["chat_id"] = destination
            if message_id is not None:
                params["message_id"] = message_id
            try:
                if "attachment" in job.payload:  # made now; a failure counts as a failed attempt
                    field_name, upload = await self.attachments.render(job.payload["attachment"])
                    params[field_name] = upload
                result = await self._call(job.method, params)
            except Exception as error:  # noqa: BLE001 - any failed call is a failed attempt, retried
                finished_at = self._now()
                return await self._failed_call(job, destination, message_id, error)
            finished_at = self._now()
            if isinstance(result, dict) and isinstance(result.get("message_id"), int):
                message_id = result["message_id"]
            self._sent.append((job.row_id, destination, message_id, self._at(finished_at)))
            self.metrics.outbox_sent.inc()
            return _RowResult.FINISHED
        finally:
            for window in windows:
                window.release(finished_at)
            if finished_at is not None and job.counted_at is not None:
                self._settled.append(Settled(job.chat_id, job.counted_at, finished_at))

    async def _put_back(self, job: _Job, ready_at: float, error: str | None = None, *,
                        hold: int | None = None) -> _RowResult:
        """Return a claimed row to pending until ``ready_at``, not counting the claim as an attempt;
        ``hold``: a chat that Telegram closed until then (429), for the other processes too."""
        self._note_wake(ready_at)
        async with self.uow_factory() as uow:
            await uow.outbox.postpone(job.row_id, self._at(ready_at), error)
            if hold is not None and self._shared is not None:
                await uow.pacing.hold(hold, ready_at)
            await uow.commit()
        self._enqueue(job.chat_id, job.row_id, ready_at)
        return _RowResult.RESCHEDULED

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        # Bot API method names are case-insensitive. The lower-case spelling is no attribute of
        # telegram.Bot, so PTB sends it as it is and does not warn "use Bot.send_message instead".
        async with asyncio.timeout(self.call_timeout):
            return await self.bot.do_api_request(method.lower(), api_kwargs=params)

    async def _failed_call(self, job: _Job, destination: int, message_id: int | None,
                           error: Exception) -> _RowResult:
        """Record what a refused or failed call means for the row."""
        now = self._now()
        where = (job.row_id, destination, job.method)
        if isinstance(error, RetryAfter):
            until = now + retry_after_seconds(error) + RETRY_MARGIN
            self._retry_until[destination] = max(self._retry_until.get(destination, 0.0), until)
            self._note_wake(until)
            self.metrics.flood_waits.labels("outbox").inc()
            log.info("outbox row %s (chat %s, %s): flood wait until %s", *where, self._at(until).isoformat())
            return await self._put_back(job, until, f"429: {error}", hold=destination)
        if isinstance(error, ChatMigrated):
            return await self._migrated(job, destination, int(error.new_chat_id))
        if isinstance(error, Forbidden):
            return await self._forbidden(job, destination, str(error))
        if isinstance(error, BadRequest):
            if NOT_MODIFIED in error.message.lower():
                self._sent.append((job.row_id, destination, message_id, self._at(now)))
                self.metrics.outbox_sent.inc()
                return _RowResult.FINISHED
            log.warning("outbox row %s (chat %s, %s) failed: %s", *where, error)
            return await self._fail(job.row_id, f"400: {error}")
        if isinstance(error, EndPointNotFound):
            log.error("outbox row %s (chat %s, %s) failed: %s", *where, error)
            return await self._fail(job.row_id, f"404: {error}")
        # 5xx, NetworkError, TimedOut, our own timeout, or something unexpected: back off.
        reason = f"{type(error).__name__}: {error}"
        if job.attempts >= self.settings.max_attempts:
            log.error("outbox row %s (chat %s, %s) failed after %d attempts: %s", *where, job.attempts, reason)
            return await self._fail(job.row_id, reason)
        delay = min(MAX_BACKOFF, 2.0 ** (job.attempts - 1))
        log.warning("outbox row %s (chat %s, %s) attempt %d failed, retrying in %.0f s: %s",
                    *where, job.attempts, delay, reason)
        self._note_wake(now + delay)
        async with self.uow_factory() as uow:
            await uow.outbox.retry_later(job.row_id, self._at(now + delay), reason)
            await uow.commit()
        self._enqueue(job.chat_id, job.row_id, now + delay)
        self.metrics.outbox_retried.inc()
        return _RowResult.RESCHEDULED

    async def _fail(self, row_id: int, error: str) -> _RowResult:
        async with self.uow_factory() as uow:
            await uow.outbox.fail(row_id, error)
            await uow.commit()
        self.metrics.outbox_failed.inc()
        return _RowResult.FINISHED

    async def _forbidden(self, job: _Job, chat_id: int, error: str) -> _RowResult:
        async with self.uow_factory() as uow:
            await uow.outbox.fail(job.row_id, f"403: {error}")
            dropped = await uow.outbox.fail_pending(chat_id, f"403 earlier: {error}")
            changed = chat_id > 0 and await uow.users.set_reachable(chat_id, False)
            if changed and self.on_unreachable is not None:
                await self.on_unreachable(uow, chat_id)
            await uow.commit()
        self._queues.pop(chat_id, None)
        self._queues.pop(job.chat_id, None)
        self.metrics.outbox_failed.inc(1 + dropped)
        log.warning("outbox row %s (chat %s, %s) failed: %s; %d more pending row(s) to the chat dropped",
                    job.row_id, chat_id, job.method, error, dropped)
        return _RowResult.FINISHED

    async def _migrated(self, job: _Job, old_chat_id: int, new_chat_id: int) -> _RowResult:
        log.info("outbox row %s: chat %s became supergroup %s", job.row_id, old_chat_id, new_chat_id)
        async with self.uow_factory() as uow:
            await uow.teams.move_chat(old_chat_id, new_chat_id)
            await uow.outbox.move_chat(old_chat_id, new_chat_id)
            if job.kind == "edit":
                await uow.outbox.fail(job.row_id, f"chat {old_chat_id} was upgraded to supergroup {new_chat_id}; "
                                                  "its messages can no longer be edited")
            else:
                await uow.outbox.postpone(job.row_id, self._at(self._now()))
            await uow.commit()
        self._queues.pop(old_chat_id, None)
        self._queues.pop(job.chat_id, None)
        self.kick()  # the moved rows are found under their new chat by the next look
        self._note_wake(self._now())
        return _RowResult.FINISHED if job.kind == "edit" else _RowResult.RESCHEDULED


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds (without PTB's deprecation warning)."""
    # PTB 22 keeps a timedelta; the public attribute is an int (with a deprecation warning) unless
    # PTB_TIMEDELTA is set, so read the stored value when it is there.
    value = getattr(error, "_retry_after", None)
    if value is None:
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
