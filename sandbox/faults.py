"""Faults on demand: make the next N matching Bot API calls fail the way Telegram sometimes does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["429", "5xx", "slow", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("429", "5xx", "slow", "drop")


@dataclass
class Fault:
    """One armed fault.

    ``kind``: ``"429"`` answers Too Many Requests with ``retry_after`` (and opens that retry window);
    ``"5xx"`` answers ``status`` (default 502); ``"slow"`` waits ``delay`` seconds, then answers
    normally; ``"drop"`` closes the connection without an answer — after carrying the call out when
    ``apply`` is true (the message was sent, but the client cannot know).
    ``method`` and ``chat_id`` narrow which calls it hits; ``None`` matches any.
    """

    kind: FaultKind
    count: int = 1
    method: str | None = None
    chat_id: int | None = None
    retry_after: int = 1
    status: int = 502
    delay: float = 1.0
    apply: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault has shots left and applies to this call."""
        if self.count <= 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


class FaultPlan:
    """The armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        self._faults.append(fault)

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """Consume one shot of the first fault that matches this call."""
        for fault in self._faults:
            if fault.matches(method, chat_id):
                fault.count -= 1
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    @property
    def armed(self) -> list[Fault]:
        return [f for f in self._faults if f.count > 0]
