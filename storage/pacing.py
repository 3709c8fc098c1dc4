"""Telegram's pacing shared by every bot process on one database (``[outbox] pacing = "database"``).

One ``outbox_pacing`` row per chat, and one for the whole bot (:data:`OVERALL`), holds what the
windows need: the recent calls' moments (a rolling window: at most ``limit`` in any ``period``), a
group's burst bucket, and the end of a 429's retry window. :meth:`PacingRepository.reserve` runs in
the transaction of the outbox claim, after the conditional ``UPDATE`` that took the rows: it locks
the rows of the claimed chats and the overall row (``SELECT … FOR UPDATE`` in key order, so two
claims never wait for each other in a circle), admits what fits and counts it, and names the moment
the others may go; the claim puts those back to pending in the same transaction. Two processes
that claim at once are therefore serialised on the overall row, and together keep every limit.

A call is counted first at the claim plus :attr:`PaceLimits.margin` (Telegram counts it when it
arrives, a little later), then, once its answer is back, at that moment (:class:`Settled`, written
with the sender's next transaction): as in the sender's own windows, a window measured here never
ends before Telegram's, and one call's latency is not added to the next one's. Moments are
seconds since the epoch (floats: the arithmetic is the same in Python on both backends). On SQLite
(one process) the claim's ``UPDATE`` already holds the write lock, so the same code is right there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from storage.models import OutboxPace
from storage.repositories import _Repository

__all__ = ["OVERALL", "PACING_SLACK", "Pace", "PaceLimits", "PacingRepository", "Rule", "Settled"]

OVERALL = 0
"""The key of the row that paces every call (no chat has id 0)."""
PACING_SLACK = 0.001
"""Seconds added to a pacing moment, so float rounding never lands a hair before it."""
PACING = OutboxPace.metadata.tables[OutboxPace.__tablename__]


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` calls in any rolling ``period`` seconds; with ``burst``, also at most
    ``burst`` at once and then one every ``period / limit`` seconds (a token bucket)."""

    limit: int
    period: float
    burst: int | None = None


@dataclass(frozen=True)
class PaceLimits:
    """The limits ``[outbox]`` sets; ``margin`` is added to each counted call (see the module)."""

    private_per_second: float = 1.0
    group_per_minute: int = 20
    group_burst: int = 3
    global_per_second: int = 30
    margin: float = 0.25

    def rule(self, key: int) -> Rule:
        if key == OVERALL:
            return Rule(max(1, self.global_per_second), 1.0)
        if key < 0:
            limit = max(1, self.group_per_minute)
            return Rule(limit, 60.0, max(1, min(self.group_burst, limit)))
        return Rule(1, 1.0 / self.private_per_second)


@dataclass(frozen=True)
class Settled:
    """A call counted at ``counted`` when claimed, whose answer came back at ``answered``."""

    chat_id: int
    counted: float
    answered: float


@dataclass
class Pace:
    """One row's state (see :class:`storage.models.OutboxPace`)."""

    times: list[float]
    tokens: float = 0.0
    updated: float = 0.0
    hold_until: float = 0.0

    def _prune(self, rule: Rule, now: float) -> None:
        self.times = sorted(t for t in self.times if t > now - rule.period)

    def _tokens(self, rule: Rule, now: float) -> float:
        assert rule.burst is not None
        return min(float(rule.burst), self.tokens + max(0.0, now - self.updated) * rule.limit / rule.period)

    def free_at(self, rule: Rule, now: float) -> float:
        """The first moment (``now`` or later) when one more call may start."""
        self._prune(rule, now)
        moment = max(now, self.hold_until)
        if len(self.times) >= rule.limit:
            moment = max(moment, self.times[len(self.times) - rule.limit] + rule.period + PACING_SLACK)
        if rule.burst is not None:
            tokens = self._tokens(rule, now)
            if tokens < 1.0:
                moment = max(moment, now + (1.0 - tokens) * rule.period / rule.limit + PACING_SLACK)
        return moment

    def take(self, rule: Rule, now: float, counted_at: float) -> None:
        """Count one call made at ``now``, as if Telegram saw it at ``counted_at``."""
        if rule.burst is not None:
            self.tokens = self._tokens(rule, now) - 1.0
            self.updated = now
        self.times = sorted([*self.times, counted_at])[-rule.limit:]

    def settle(self, counted: float, answered: float) -> None:
        """The call counted at ``counted`` was answered at ``answered``: count it then instead."""
        if counted in self.times:
            self.times.remove(counted)
        self.times = sorted([*self.times, answered])


class PacingRepository(_Repository):
    """The shared pacing rows (see the module docstring)."""

    async def reserve(self, chat_ids: Sequence[int], now: float, limits: PaceLimits,
                      settled: Sequence[Settled] = ()) -> dict[int, float]:
        """Count the ``settled`` calls at their answers' moments; then count one call to each of
        ``chat_ids`` (in this order) that its chat's window and the overall window allow now.
        Returns the others, each with the moment it may go. The rows stay locked until the
        transaction ends."""
        if not chat_ids and not settled:
            return {}
        paces = await self._locked({*chat_ids, *(s.chat_id for s in settled), OVERALL})
        overall, overall_rule = paces[OVERALL], limits.rule(OVERALL)
        for call in settled:
            paces[call.chat_id].settle(call.counted, call.answered)
            overall.settle(call.counted, call.answered)
        refused: dict[int, float] = {}
        changed = {OVERALL, *(s.chat_id for s in settled)} if settled else set()
        claimed: set[int] = set()
        for chat_id in chat_ids:
            pace, rule = paces[chat_id], limits.rule(chat_id)
            moment = max(pace.free_at(rule, now), overall.free_at(overall_rule, now))
            if moment > now or chat_id in claimed:
                refused[chat_id] = max(moment, now + rule.period / rule.limit) if chat_id in claimed else moment
                continue
            pace.take(rule, now, now + limits.margin)
            overall.take(overall_rule, now, now + limits.margin)
            claimed.add(chat_id)
            changed.update((chat_id, OVERALL))
        await self._write({key: paces[key] for key in changed})
        return refused

    async def hold(self, chat_id: int, until: float) -> None:
        """Telegram answered 429 for ``chat_id`` (or :data:`OVERALL`): no process sends there
        before ``until``."""
        await self._ensure([chat_id])
        await self.session.execute(update(PACING).where(PACING.c.chat_id == chat_id, PACING.c.hold_until < until)
                                   .values(hold_until=until))

    async def free_at(self, chat_id: int, now: float, limits: PaceLimits) -> float:
        """When a call to ``chat_id`` may start, by the shared windows (a read: nothing is locked)."""
        rows = await self.session.execute(select(PACING).where(PACING.c.chat_id.in_([chat_id, OVERALL])))
        paces = {row.chat_id: _pace(row) for row in rows}
        return max(pace.free_at(limits.rule(key), now) for key, pace in paces.items()) if paces else now

    async def _ensure(self, keys: Iterable[int]) -> None:
        """Create the missing rows, in key order (so concurrent inserts wait in one order)."""
        values = [{"chat_id": key, "times": [], "tokens": 0.0, "updated": 0.0, "hold_until": 0.0}
                  for key in sorted(set(keys))]
        await self.session.execute(self._insert(PACING).values(values).on_conflict_do_nothing())

    async def _locked(self, keys: set[int]) -> dict[int, Pace]:
        """The rows of ``keys``, locked; the missing ones are made first (a chat's first message)."""
        paces = await self._select(keys)
        missing = keys - paces.keys()
        if missing:
            await self._ensure(missing)
            paces.update(await self._select(missing))
        return paces

    async def _select(self, keys: set[int]) -> dict[int, Pace]:
        statement = select(PACING).where(PACING.c.chat_id.in_(sorted(keys))).order_by(PACING.c.chat_id)
        if self._postgresql():
            statement = statement.with_for_update()
        return {row.chat_id: _pace(row) for row in await self.session.execute(statement)}

    async def _write(self, paces: dict[int, Pace]) -> None:
        if not paces:
            return
        rows = [{"b_key": key, "b_times": pace.times, "b_tokens": pace.tokens, "b_updated": pace.updated}
                for key, pace in sorted(paces.items())]
        await self.session.execute(
            update(PACING).where(PACING.c.chat_id == bindparam("b_key"))
            .values(times=bindparam("b_times"), tokens=bindparam("b_tokens"), updated=bindparam("b_updated")), rows)


def _pace(row: Any) -> Pace:
    return Pace(list(row.times or []), row.tokens, row.updated, row.hold_until)
