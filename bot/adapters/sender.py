"""The Telegram side of the outbox: :class:`OutboxSender` delivers queued messages and edits.

Every outgoing message or edit is an ``outbox`` row written in the same transaction as the change
that caused it (:class:`storage.repositories.OutboxRepository`). The sender turns rows into Bot API
calls, within Telegram's limits, and records what became of each.

Order
    A chat's rows go out in row order. Only a chat's oldest unfinished row is ever a candidate
    (``OutboxRepository.heads``): row N+1 waits until row N is sent, failed or superseded. The rule
    lives in the query, not in memory, so it holds across processes too. An edit is queued behind
    the message it edits, so it never overtakes it. A row that is waiting (a retry_after window,
    a backoff) holds back the rest of its chat, and only its chat.

Claims, leases, at-least-once
    A row is taken with ``OutboxRepository.claim``, a conditional UPDATE. When two senders (two bot
    processes on one PostgreSQL) go for the same row, only one wins. The claim is a lease (``lease``
    seconds, 60 by default). A sender killed between the claim and the commit of the outcome leaves
    the row claimed. When the lease runs out, another sender sends it again. The Bot API has no
    idempotency key, so delivery is **at-least-once**. A message can arrive twice when a sender dies
    after Telegram accepted it, or when the connection drops or times out after Telegram acted on
    the call (that call is retried). A message is never silently lost while attempts remain.
    ``lease`` must comfortably exceed one call (calls are cut off at ``lease / 2``, at most 30 s).

Pacing
    Sliding windows kept in this process, on the injected clock: at most one message per
    ``1 / private_per_second`` s to a private chat, ``group_per_minute`` per rolling minute to a
    group (negative chat id), and ``global_per_second`` per rolling second overall. Sends and edits
    count alike. A call counts from the moment its answer arrived, never earlier than Telegram
    counted it, so a window measured here is never shorter than Telegram's. A row that may not go
    yet is simply left pending: no claim and no attempt. The windows are per process. Two
    processes together may send twice the overall rate, so give each a share of
    ``global_per_second``. The per-chat order still holds across processes, but the per-chat
    pacing does not.

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
import datetime as dt
import logging
import math
import re
import time
from bisect import insort
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
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
from bot.settings import OutboxSettings
from storage.clock import Clock, utc_now
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

__all__ = ["OutboxSender", "retry_after_seconds"]

log = logging.getLogger(__name__)
# Methods whose row names a chat only for pacing: the chat is inside their parameters (a menu's scope).
CHATLESS_METHODS = frozenset({"setmycommands", "deletemycommands"})
# Payload keys for us, not Telegram: the method, an attachment made at send time, a list's query
# (bot.views.lists.ListsView.send).
INTERNAL_KEYS = frozenset({"method", "attachment", "list"})

RETRY_MARGIN = 0.5
MAX_ANSWER_HOLD = 1.0  # seconds the outbox waits for taps being answered
"""Seconds added to a 429's retry_after, against clock skew and Telegram's rounding."""
PACING_SLACK = 0.001
"""Seconds added to a pacing moment, so float rounding never lands a hair before it."""
MAX_BACKOFF = 60.0
TARGET_WAIT = 1.0
"""How soon to look again at an edit whose message has not been sent yet."""
NOT_MODIFIED = "message is not modified"
_METHOD = re.compile(r"^[A-Za-z]+$")

OnUnreachable = Callable[[UnitOfWork, int], Awaitable[None]]


class _RowResult(Enum):
    SKIPPED = "skipped"  # not allowed yet, or another sender has it: nothing changed
    RESCHEDULED = "rescheduled"  # back to pending for later
    FINISHED = "finished"  # sent or failed


class _Window:
    """At most ``limit`` calls in any rolling ``period`` seconds. Calls in flight hold a slot."""

    __slots__ = ("inflight", "limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = max(1, limit)
        self.period = period
        self.times: deque[float] = deque()
        self.inflight = 0

    def _prune(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()

    def free_at(self, now: float) -> float:
        """The first moment (``now`` or later) when one more call may start."""
        self._prune(now)
        used = len(self.times) + self.inflight
        if used < self.limit:
            return now
        index = used - self.limit  # the finished call whose expiry frees a slot
        if index < len(self.times):
            return max(now, self.times[index] + self.period + PACING_SLACK)
        return now + self.period  # only calls in flight hold the slots: look again later

    def take(self) -> None:
        self.inflight += 1

    def release(self, finished_at: float | None) -> None:
        """The call ended (``finished_at``), or never started (``None``: the slot is returned)."""
        self.inflight -= 1
        if finished_at is not None:
            insort(self.times, finished_at)

    def idle(self, now: float) -> bool:
        self._prune(now)
        return not self.times and not self.inflight


@dataclass(frozen=True)
class _Job:
    """One candidate row as read at the start of a pass (plain values: the session is gone)."""

    row_id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    target_status: str | None = None
    target_chat_id: int | None = None
    target_message_id: int | None = None

    @property
    def method(self) -> str:
        return str(self.payload.get("method") or ("editMessageText" if self.kind == "edit" else "sendMessage"))

    @classmethod
    def of(cls, row: OutboxMessage, target: OutboxMessage | None) -> _Job:
        if target is None:
            return cls(row.id, row.kind, row.chat_id, dict(row.payload or {}))
        return cls(row.id, row.kind, row.chat_id, dict(row.payload or {}), target.status,
                   target.sent_chat_id, target.message_id)


class OutboxSender:
    """Delivers outbox rows to Telegram within its limits (see the module docstring)."""

    def __init__(self, bot: telegram.Bot, uow_factory: Callable[[], UnitOfWork], settings: OutboxSettings,
                 *, clock: Clock = utc_now, on_unreachable: OnUnreachable | None = None,
                 lease: float = 60.0, concurrency: int = 8, attachments: AttachmentRenderer | None = None) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.settings = settings
        self.clock = clock
        self.on_unreachable = on_unreachable
        self.attachments = attachments or AttachmentRenderer()
        self.lease = dt.timedelta(seconds=lease)
        self.call_timeout = min(lease / 2, 30.0)
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._global = _Window(settings.global_per_second, 1.0)
        self._chats: dict[int, _Window] = {}
        self._retry_until: dict[int, float] = {}  # chat -> end of its retry_after window
        self._hold_until = 0.0  # a retry_after window that covers every chat
        self._answering = 0  # button taps being answered right now
        self._held_since: float | None = None
        self._next_wake: float | None = None
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._running = False

    # -- the public face --------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Deliver what is due now and allowed by pacing; returns how many rows finished
        (sent or failed). Rows that must wait stay pending; :attr:`next_wakeup` says when to look."""
        self._next_wake = None
        finished = 0
        for _ in range(max(1, self.settings.batch_size)):
            outcomes = await self._pass()
            finished += sum(1 for o in outcomes if o is _RowResult.FINISHED)
            if all(o is _RowResult.SKIPPED for o in outcomes):
                break
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
        """Deliver until :meth:`stop`: a round, then wait for :meth:`kick`, ``poll_interval`` or
        the next pacing or retry moment, whichever comes first. A failing round (the database is
        down, say) is logged and retried with backoff. A stopped sender stays stopped (so a
        :meth:`stop` that comes before the task starts still counts)."""
        if self._running:
            raise RuntimeError("this OutboxSender is already running")
        self._running = True
        self._stopped.clear()
        failures = 0
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    await self.run_once()
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
            self._running = False
            self._stopped.set()

    def kick(self) -> None:
        """Something was just committed: look now."""
        self._wake.set()

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """While a tap is handled and answered, start no new sends: the answer goes first, and a
        429 on it (which :meth:`hold_all` then respects) is not overtaken by a send. A hold never
        lasts longer than :data:`MAX_ANSWER_HOLD`, so a stream of taps cannot starve the outbox."""
        self._answering += 1
        try:
            yield
        finally:
            self._answering -= 1
            if not self._answering:
                self._held_since = None
                self._wake.set()

    def hold_all(self, seconds: float) -> None:
        """Telegram answered a call made outside the outbox (a callback answer, say) with 429:
        send nothing to anyone until the window has passed."""
        self._hold_until = max(self._hold_until, self._now() + seconds + RETRY_MARGIN)

    async def stop(self) -> None:
        """Stop :meth:`run` once the calls in progress are recorded, and wait for that."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    # -- one pass: each chat's first row --------------------------------------------------------
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
                window = _Window(self.settings.group_per_minute, 60.0)
            else:
                window = _Window(1, 1.0 / self.settings.private_per_second)
            self._chats[chat_id] = window
        return window

    def _free_at(self, chat_id: int, now: float) -> float:
        """When a call to ``chat_id`` may start: its retry window, its pacing and the overall pacing."""
        return max(self._retry_until.get(chat_id, now), self._window(chat_id).free_at(now),
                   self._global.free_at(now))

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, w in self._chats.items() if w.idle(now)]:
            del self._chats[chat_id]
        for chat_id in [c for c, until in self._retry_until.items() if until <= now]:
            del self._retry_until[chat_id]

    async def _pass(self) -> list[_RowResult]:
        now = self._now()
        if self._answering:
            self._held_since = self._held_since or time.monotonic()
            if time.monotonic() - self._held_since < MAX_ANSWER_HOLD:
                self._note_wake(now + 0.05)
                return []
        overall = max(self._global.free_at(now), self._hold_until)
        if overall > now:
            self._note_wake(overall)
            return []
        waiting = [c for c in set(self._chats) | set(self._retry_until) if self._free_at(c, now) > now]
        async with self.uow_factory() as uow:
            rows = await uow.outbox.heads(self._at(now), self.settings.batch_size, exclude_chats=waiting)
            targets = await uow.outbox.by_ids({r.target_id for r in rows if r.kind == "edit" and r.target_id})
            jobs = [_Job.of(row, targets.get(row.target_id) if row.target_id else None) for row in rows]
        for chat_id in waiting:
            self._note_wake(self._free_at(chat_id, now))
        return list(await asyncio.gather(*(self._attempt(job) for job in jobs)))

    async def _attempt(self, job: _Job) -> _RowResult:
        try:
            async with self._semaphore:
                return await self._deliver(job)
        except Exception as error:  # noqa: BLE001 - one row's failure must not stop the others
            # The database failed us mid-row: the claim (if any) runs out and the row is retried.
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
                self._note_wake(now + TARGET_WAIT)  # its message is not out yet: wait, free of charge
                return _RowResult.SKIPPED
            if job.target_status != "sent" or job.target_chat_id is None or job.target_message_id is None:
                problem = f"the message to edit was never sent (its row is {job.target_status or 'missing'})"
            else:
                destination, message_id = job.target_chat_id, job.target_message_id
        if not _METHOD.match(job.method):
            problem = "payload has no valid Bot API method"
        if problem is not None:
            return await self._fail_unsent(job, problem)

        free = self._free_at(destination, now)
        if free > now:
            self._note_wake(free)
            return _RowResult.SKIPPED
        windows = (self._window(destination), self._global)
        for window in windows:
            window.take()
        finished_at: float | None = None
        try:
            claimed = await self._claim(job, now)
            if claimed is None:
                return _RowResult.SKIPPED
            attempts, chat_id = claimed
            if chat_id != job.chat_id:  # moved to a supergroup meanwhile: pace it as the new chat
                async with self.uow_factory() as uow:
                    await uow.outbox.postpone(job.row_id, self._at(now))
                    await uow.commit()
                return _RowResult.RESCHEDULED
            params = {k: v for k, v in job.payload.items() if k not in INTERNAL_KEYS}
            if job.method.lower() not in CHATLESS_METHODS:
                params["chat_id"] = destination
            if message_id is not None:
                params["message_id"] = message_id
            try:
                if "attachment" in job.payload:  # made now; a failure counts as a failed attempt
                    field, upload = await self.attachments.render(job.payload["attachment"])
                    params[field] = upload
                result = await self._call(job.method, params)
            except Exception as error:  # noqa: BLE001 - any failed call is a failed attempt, retried
                finished_at = self._now()
                return await self._failed_call(job, destination, message_id, attempts, error)
            finished_at = self._now()
            if isinstance(result, dict) and isinstance(result.get("message_id"), int):
                message_id = result["message_id"]
            async with self.uow_factory() as uow:
                await uow.outbox.mark_sent(job.row_id, destination, message_id)
                await uow.commit()
            return _RowResult.FINISHED
        finally:
            for window in windows:
                window.release(finished_at)

    async def _claim(self, job: _Job, now: float) -> tuple[int, int] | None:
        """Take the row; its attempt count and (current) chat, or None if another sender has it."""
        async with self.uow_factory() as uow:
            if not await uow.outbox.claim(job.row_id, self._at(now), self.lease):
                return None
            row = await uow.outbox.get(job.row_id)
            assert row is not None
            await uow.commit()
            return row.attempts, row.chat_id

    async def _fail_unsent(self, job: _Job, error: str) -> _RowResult:
        if await self._claim(job, self._now()) is None:
            return _RowResult.SKIPPED
        log.warning("outbox row %s (chat %s, %s) failed: %s", job.row_id, job.chat_id, job.method, error)
        async with self.uow_factory() as uow:
            await uow.outbox.fail(job.row_id, error)
            await uow.commit()
        return _RowResult.FINISHED

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        # Bot API method names are case-insensitive. The lower-case spelling is no attribute of
        # telegram.Bot, so PTB sends it as it is and does not warn "use Bot.send_message instead".
        async with asyncio.timeout(self.call_timeout):
            return await self.bot.do_api_request(method.lower(), api_kwargs=params)

    async def _failed_call(self, job: _Job, destination: int, message_id: int | None, attempts: int,
                           error: Exception) -> _RowResult:
        """Record what a refused or failed call means for the row."""
        now = self._now()
        where = (job.row_id, destination, job.method)
        if isinstance(error, RetryAfter):
            until = now + retry_after_seconds(error) + RETRY_MARGIN
            self._retry_until[destination] = max(self._retry_until.get(destination, 0.0), until)
            self._note_wake(until)
            log.info("outbox row %s (chat %s, %s): flood wait until %s", *where, self._at(until).isoformat())
            async with self.uow_factory() as uow:
                await uow.outbox.postpone(job.row_id, self._at(until), f"429: {error}")
                await uow.commit()
            return _RowResult.RESCHEDULED
        if isinstance(error, ChatMigrated):
            return await self._migrated(job, destination, int(error.new_chat_id))
        if isinstance(error, Forbidden):
            return await self._forbidden(job, destination, str(error))
        if isinstance(error, BadRequest):
            if NOT_MODIFIED in error.message.lower():
                async with self.uow_factory() as uow:
                    await uow.outbox.mark_sent(job.row_id, destination, message_id)
                    await uow.commit()
                return _RowResult.FINISHED
            log.warning("outbox row %s (chat %s, %s) failed: %s", *where, error)
            return await self._fail(job.row_id, f"400: {error}")
        if isinstance(error, EndPointNotFound):
            log.error("outbox row %s (chat %s, %s) failed: %s", *where, error)
            return await self._fail(job.row_id, f"404: {error}")
        # 5xx, NetworkError, TimedOut, our own timeout, or something unexpected: back off.
        reason = f"{type(error).__name__}: {error}"
        if attempts >= self.settings.max_attempts:
            log.error("outbox row %s (chat %s, %s) failed after %d attempts: %s", *where, attempts, reason)
            return await self._fail(job.row_id, reason)
        delay = min(MAX_BACKOFF, 2.0 ** (attempts - 1))
        log.warning("outbox row %s (chat %s, %s) attempt %d failed, retrying in %.0f s: %s",
                    *where, attempts, delay, reason)
        self._note_wake(now + delay)
        async with self.uow_factory() as uow:
            await uow.outbox.retry_later(job.row_id, self._at(now + delay), reason)
            await uow.commit()
        return _RowResult.RESCHEDULED

    async def _fail(self, row_id: int, error: str) -> _RowResult:
        async with self.uow_factory() as uow:
            await uow.outbox.fail(row_id, error)
            await uow.commit()
        return _RowResult.FINISHED

    async def _forbidden(self, job: _Job, chat_id: int, error: str) -> _RowResult:
        async with self.uow_factory() as uow:
            await uow.outbox.fail(job.row_id, f"403: {error}")
            dropped = await uow.outbox.fail_pending(chat_id, f"403 earlier: {error}")
            changed = chat_id > 0 and await uow.users.set_reachable(chat_id, False)
            if changed and self.on_unreachable is not None:
                await self.on_unreachable(uow, chat_id)
            await uow.commit()
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
        return _RowResult.FINISHED if job.kind == "edit" else _RowResult.RESCHEDULED


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds (without PTB's deprecation warning)."""
    # PTB 22 keeps a timedelta; the public attribute is an int (with a deprecation warning) unless
    # PTB_TIMEDELTA is set, so read the stored value when it is there.
    value = getattr(error, "_retry_after", None)
    if value is None:
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
