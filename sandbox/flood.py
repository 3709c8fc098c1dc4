"""Telegram's flood limits: about 1 message/s per private chat (small bursts tolerated),
20 messages/minute per group, 30 messages/s overall.

A refused call opens a *retry window* for its scope (the chat, or everything for the overall limit)
lasting ``retry_after`` seconds. A call that arrives inside an open window is refused again and
recorded as a violation: a well-behaved client never sends one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

GLOBAL_SCOPE = "global"


@dataclass(frozen=True)
class FloodLimits:
    """The limits the sandbox enforces; ``enabled=False`` turns pacing checks off entirely."""

    enabled: bool = True
    private_per_second: float = 1.0
    private_burst: int = 5
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class Violation:
    """A call made while a retry window was open for its scope."""

    time: float
    method: str
    chat_id: int | None
    scope: str
    window_until: float


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class FloodControl:
    """Admits or refuses rate-limited calls and remembers the retry windows it (or a fault) opened."""

    limits: FloodLimits = field(default_factory=FloodLimits)
    windows: dict[str, float] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    _private: dict[int, _Bucket] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def open_window(self, scope: str, now: float, retry_after: int) -> None:
        """Start (or extend) a retry window, as a 429 does."""
        self.windows[scope] = max(self.windows.get(scope, 0.0), now + retry_after)

    def inside_window(self, method: str, chat_id: int | None, now: float) -> int | None:
        """If the call falls inside an open window, record the violation and return seconds left."""
        for scope in (GLOBAL_SCOPE, _chat_scope(chat_id)):
            until = self.windows.get(scope) if scope else None
            if until is not None and now < until:
                self.violations.append(Violation(now, method, chat_id, scope, until))
                return max(1, math.ceil(until - now))
        return None

    def admit(self, chat_id: int, is_private: bool, now: float) -> int | None:
        """Count one message; return ``retry_after`` seconds when it breaks a limit."""
        if not self.limits.enabled:
            return None
        retry = self._check_global(now)
        if retry is None:
            retry = self._check_private(chat_id, now) if is_private else self._check_group(chat_id, now)
            scope = _chat_scope(chat_id)
        else:
            scope = GLOBAL_SCOPE
        if retry is not None:
            self.open_window(scope, now, retry)
            return retry
        self._global.append(now)
        return None

    def _check_global(self, now: float) -> int | None:
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        if len(self._global) >= self.limits.global_per_second:
            return max(1, math.ceil(self._global[0] + 1.0 - now))
        return None

    def _check_private(self, chat_id: int, now: float) -> int | None:
        rate, burst = self.limits.private_per_second, float(self.limits.private_burst)
        bucket = self._private.setdefault(chat_id, _Bucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return max(1, math.ceil((1.0 - bucket.tokens) / rate))
        bucket.tokens -= 1.0
        return None

    def _check_group(self, chat_id: int, now: float) -> int | None:
        sent = self._groups.setdefault(chat_id, deque())
        while sent and sent[0] <= now - 60.0:
            sent.popleft()
        if len(sent) >= self.limits.group_per_minute:
            return max(1, math.ceil(sent[0] + 60.0 - now))
        sent.append(now)
        return None


def _chat_scope(chat_id: int | None) -> str:
    return "" if chat_id is None else f"chat:{chat_id}"


def scope_for(chat_id: int | None) -> str:
    """The window scope a 429 for ``chat_id`` opens (overall when there is no chat)."""
    return _chat_scope(chat_id) or GLOBAL_SCOPE
