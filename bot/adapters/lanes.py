"""Handling updates concurrently while every chat, and every person, sees them in order.

An update belongs to the *lanes* of its chat and of the person who sent it (:func:`keys_of`): a tap
in a group by user U and U's private message both touch U's state. An update waits until it is the
first unfinished update of each of its lanes (:class:`Lanes`), so two updates sharing a lane never
overlap and are handled in ``update_id`` order; updates sharing none run side by side, at most
``concurrency`` at a time. Polling learns updates in id order; parallel webhook requests may arrive
out of order, so a lane keeps its waiting updates sorted by id (one already started is never
overtaken). Waiting on each predecessor's completion, not on locks taken one after another, keeps
that order across lanes and rules out a cycle: every lane orders its waiting updates by the same id.

:class:`Confirmations` says how far Telegram may be told "received": up to the lowest update that is
not finished yet, never past it, whatever finished after it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

# The fields of an update that carry its chat (a callback query's is that of its message).
_BODIES = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message",
           "edited_business_message", "callback_query", "my_chat_member", "chat_member", "chat_join_request",
           "message_reaction", "inline_query", "chosen_inline_result", "shipping_query", "pre_checkout_query",
           "poll_answer")


def _id(value: object, field_name: str) -> int | None:
    found = value.get(field_name) if isinstance(value, dict) else None
    return found if type(found) is int else None


def keys_of(raw: dict[str, Any]) -> frozenset[int]:
    """The lanes of a raw update: its chat's id and the ids of the people whose state it touches
    (the sender; for a member's change, that member too). Private chats share their person's id,
    groups have negative ids, so one person's private chat and taps in groups meet in one lane.
    Read from the raw JSON, malformed or not: an update the library cannot parse keeps its place."""
    keys: set[int] = set()
    for name in _BODIES:
        body = raw.get(name)
        if not isinstance(body, dict):
            continue
        chat = body.get("chat")
        if not isinstance(chat, dict):  # a callback query: the chat of the message it was tapped on
            message = body.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
        for found in (_id(chat, "id"), _id(body.get("from"), "id") or _id(body.get("user"), "id"),
                      _id(_member(body), "id")):
            if found is not None:
                keys.add(found)
    return frozenset(keys)


def _member(body: dict[str, Any]) -> object:
    new = body.get("new_chat_member")
    return new.get("user") if isinstance(new, dict) else None


@dataclass(eq=False)
class _Turn:
    update_id: int
    keys: frozenset[int]
    started: bool = False
    after_failure: bool = False  # an earlier update of a lane gave up: this one must not overtake it
    nudged: asyncio.Event = field(default_factory=asyncio.Event)


class Lanes:
    """Per-lane order and a bound on the updates handled at once (see the module docstring)."""

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._lanes: dict[int, list[_Turn]] = {}
        self._slots = asyncio.Semaphore(concurrency)

    def waiting(self) -> int:
        """Updates holding or waiting for a turn (for tests and logs)."""
        return len({id(t) for lane in self._lanes.values() for t in lane})

    @contextlib.asynccontextmanager
    async def turn(self, update_id: int, keys: frozenset[int]) -> AsyncIterator[TurnHandle]:
        """Wait until every earlier update of ``keys``' lanes has finished; hold the lanes until exit.
        The handle's :meth:`TurnHandle.attempt` takes one of the ``concurrency`` slots."""
        turn = _Turn(update_id, keys)
        for key in keys:
            self._enter(self._lanes.setdefault(key, []), turn)
        handle = TurnHandle(self, turn)
        try:
            while not self._first_everywhere(turn):
                turn.nudged.clear()
                await turn.nudged.wait()
            turn.started = True
            yield handle
        finally:
            self._leave(turn, failed=handle.failed)

    @staticmethod
    def _enter(lane: list[_Turn], turn: _Turn) -> None:
        started = 0
        while started < len(lane) and lane[started].started:
            started += 1
        ids = [t.update_id for t in lane[started:]]
        lane.insert(started + bisect.bisect_right(ids, turn.update_id), turn)

    def _first_everywhere(self, turn: _Turn) -> bool:
        return all(self._lanes[key][0] is turn for key in turn.keys)

    def _leave(self, turn: _Turn, *, failed: bool) -> None:
        for key in turn.keys:
            lane = self._lanes[key]
            lane.remove(turn)
            if failed:
                for later in lane:
                    later.after_failure = True
            if lane:
                lane[0].nudged.set()
            else:
                del self._lanes[key]


class TurnHandle:
    """An update's hold on its lanes."""

    def __init__(self, lanes: Lanes, turn: _Turn) -> None:
        self._lanes = lanes
        self._turn = turn
        self.failed = False  # set when the update leaves its lanes unhandled (later ones must not overtake)

    @property
    def after_failure(self) -> bool:
        """An earlier update of one of its lanes left unhandled (a webhook's 503): handling this one
        now would overtake it, so it should be left unhandled too."""
        return self._turn.after_failure

    @contextlib.asynccontextmanager
    async def attempt(self) -> AsyncIterator[None]:
        """One try at handling, within the concurrency bound (a backoff between tries holds the
        lanes but no slot, so a held chat never starves the others)."""
        async with self._lanes._slots:
            yield


class Confirmations:
    """Which deliveries are unfinished, and so how far Telegram may be told "received".

    ``offset`` (the next ``getUpdates`` offset) is the lowest update that is unfinished or was left
    unhandled, or one past the highest update seen when there is none. Until Telegram has been
    asked with an offset past an update, every batch may bring it again (also one asked for before
    it finished): :meth:`begun` counts its deliveries already taken (in flight or finished), so a
    batch adds only copies it holds beyond those — Telegram delivering one update twice — which the
    database then recognises (``storage.uow``). :meth:`asked` forgets the counts below the offset a
    batch was asked with: what comes back below it is Telegram delivering it again, taken like a
    new update. An update left unhandled is taken again when a batch brings it back.
    """

    def __init__(self) -> None:
        self._open: Counter[int] = Counter()  # update id → deliveries being handled
        self._begun: Counter[int] = Counter()  # update id → deliveries taken, until the offset passes it
        self._left: set[int] = set()
        self._next: int | None = None

    @property
    def offset(self) -> int | None:
        held = self._open.keys() | self._left
        return min(held) if held else self._next

    @property
    def unfinished(self) -> int:
        return self._open.total()

    def begun(self, update_id: int) -> int:
        """Deliveries of ``update_id`` being handled or handled since the offset last moved."""
        return self._begun[update_id]

    def begin(self, update_id: int) -> None:
        self._open[update_id] += 1
        self._begun[update_id] += 1
        self._left.discard(update_id)
        self._next = max(update_id + 1, self._next or 0)

    def finish(self, update_id: int) -> None:
        """Handled or parked: confirmed once every earlier update is too."""
        self._close(update_id)

    def asked(self, offset: int | None) -> None:
        """A batch came back for ``getUpdates(offset)``: Telegram has forgotten what lies below it."""
        if offset is not None:
            self._begun = Counter({u: n for u, n in self._begun.items() if u >= offset or u in self._open})

    def leave(self, update_id: int) -> None:
        """Left unhandled (the bot is stopping, or something unexpected): it stays unconfirmed."""
        self._close(update_id)
        self._begun[update_id] -= 1
        self._left.add(update_id)

    def _close(self, update_id: int) -> None:
        self._open[update_id] -= 1
        if self._open[update_id] <= 0:
            del self._open[update_id]
