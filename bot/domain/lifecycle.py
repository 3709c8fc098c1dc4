"""The order's lifecycle: its statuses, the groups the loop reasons about, and the moves between them.

Pure data, no I/O. The statuses are the strings stored in ``orders.status``; the storage layer never
imports this module (``storage`` must not import ``bot``), so its repositories take statuses from
their callers. A new state or move is added here first; :mod:`bot.services.orders` then refuses
every move the table does not allow, and :mod:`bot.services.follow_ups` says what follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class OrderStatus(StrEnum):
    NEW = "new"  # placed (or reopened by a poor rating), waiting for the centre to dispatch it
    DISPATCHED = "dispatched"  # with a team's group, waiting for a volunteer
    ACCEPTED = "accepted"  # a volunteer took it
    ON_WAY = "on_way"  # the volunteer set off
    DONE = "done"  # the volunteer finished, waiting for the resident's rating
    CLOSED = "closed"  # rated well, or never rated ("no response")
    CANCELLED = "cancelled"  # by the resident
    REJECTED = "rejected"  # by the centre


# The groups the loop reasons about.
DISPATCHABLE = frozenset({OrderStatus.NEW, OrderStatus.DISPATCHED})  # nobody took it: the centre may send or reject it
ACTIVE = frozenset({OrderStatus.ACCEPTED, OrderStatus.ON_WAY})  # a volunteer holds it
WITH_TEAM = frozenset({OrderStatus.DISPATCHED, *ACTIVE})  # a team answers for it (no archiving, weekly digest)
OPEN = frozenset({OrderStatus.NEW, *WITH_TEAM})  # not finished: cancellable, counted against limits, listed
FINISHED = frozenset({OrderStatus.DONE, OrderStatus.CLOSED})  # the volunteer's work is over (hours may be recorded)
FINAL = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED, OrderStatus.REJECTED})  # nothing moves it any more


class Move(StrEnum):
    """The named ways an order changes status (who may make each is the services' business)."""

    DISPATCH = "dispatch"  # the centre sends it to a team (or moves it to another one)
    REJECT = "reject"  # the centre refuses it
    ACCEPT = "accept"  # a volunteer takes it
    ON_WAY = "on_way"  # the volunteer sets off
    DONE = "done"  # the volunteer finished
    RELEASE = "release"  # the volunteer gives it back to the team's group
    LEASE_EXPIRED = "lease_expired"  # the volunteer did not confirm in time: given back for them
    CLOSE = "close"  # rated well
    REOPEN = "reopen"  # rated poorly (or "not solved"): back to the centre for a new round
    NO_RESPONSE = "no_response"  # never rated: closed, counted apart from ratings
    CANCEL = "cancel"  # the resident withdraws it


@dataclass(frozen=True)
class Transition:
    """A move's rule: from which statuses, to which one, what it forgets, and its audit name."""

    sources: frozenset[OrderStatus]
    target: OrderStatus
    event: str  # ``order_events.event`` (names reports and tests read: keep them)
    forgets: frozenset[str] = frozenset()  # order columns the move empties (who held it, which team)


_HOLDER = frozenset({"volunteer_id"})

MOVES: Mapping[Move, Transition] = MappingProxyType({
    Move.DISPATCH: Transition(DISPATCHABLE, OrderStatus.DISPATCHED, "dispatched"),
    Move.REJECT: Transition(DISPATCHABLE, OrderStatus.REJECTED, "rejected"),
    Move.ACCEPT: Transition(frozenset({OrderStatus.DISPATCHED}), OrderStatus.ACCEPTED, "accepted"),
    Move.ON_WAY: Transition(frozenset({OrderStatus.ACCEPTED}), OrderStatus.ON_WAY, "on_way"),
    Move.DONE: Transition(ACTIVE, OrderStatus.DONE, "done"),
    Move.RELEASE: Transition(ACTIVE, OrderStatus.DISPATCHED, "released", _HOLDER),
    # Only from accepted: an order already on its way is never given back behind the volunteer's back.
    Move.LEASE_EXPIRED: Transition(frozenset({OrderStatus.ACCEPTED}), OrderStatus.DISPATCHED, "lease_expired", _HOLDER),
    Move.CLOSE: Transition(frozenset({OrderStatus.DONE}), OrderStatus.CLOSED, "rated"),
    Move.REOPEN: Transition(frozenset({OrderStatus.DONE}), OrderStatus.NEW, "rated", _HOLDER | {"team_id"}),
    Move.NO_RESPONSE: Transition(frozenset({OrderStatus.DONE}), OrderStatus.CLOSED, "no_response"),
    Move.CANCEL: Transition(OPEN, OrderStatus.CANCELLED, "cancelled"),
})

# Moves that give a taken order back to its team's group: the same card reset, centre cards and
# resident message follow each (only who is told what about the volunteer, and the audit name, differ).
GIVE_BACKS = frozenset({Move.RELEASE, Move.LEASE_EXPIRED})


def can(move: Move, status: str) -> bool:
    """Whether ``move`` is allowed from ``status``."""
    return status in MOVES[move].sources


def moves_from(status: str) -> frozenset[Move]:
    """Every move allowed from ``status`` (none from a final one)."""
    return frozenset(move for move, rule in MOVES.items() if status in rule.sources)
