"""What must hold of every order after every command, read from the database alone.

* The status agrees with the assignee, and the assignee with the audit log: an order has a
  volunteer exactly while it is accepted, on the way, done or closed (a cancelled one keeps whoever
  had it), that volunteer is the last one the log says accepted it, and nobody accepts an order
  someone else still has (no second ``accepted`` without a ``released``, ``lease_expired`` or
  ``reopened`` between).
* Open (pending) schedule rows agree with the status (``timetable.order_moved``): escalation only while
  dispatched, the lease, the appointment and overdue nudges only while it is accepted (overdue
  nudges also on the way), for its volunteer; the rating chase only while done, for its resident.
  An accepted order always has its lease running and a done one its rating chase. After a sweep
  nothing is left due.
* The team cards agree with the status: the latest edit of each current card (the team's, and
  those the escalation ladder offered to other teams) says what the order is doing, and shows
  Accept exactly while the order is dispatched — and only where a member could then take it.
  Cards the order no longer uses show no Accept.
* Ratings: one per round, only for rounds that were done; a closed order that was rated has its
  rating, a "no response" one has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.services.schedule.rules import APPOINTMENT, ESCALATE, LEASE, LEASE_EXPIRY, OVERDUE, RATING
from bot.views import callbacks as cb
from storage.models import Base, Order, OrderEvent, OutboxMessage, Rating, ScheduledItem, Team, Volunteer
from tests.service.lifecycle.world import World

STATUSES = {"new", "dispatched", "accepted", "on_way", "done", "closed", "rejected", "cancelled"}
WITH_VOLUNTEER = {"accepted", "on_way", "done", "closed"}
WITHOUT_VOLUNTEER = {"new", "dispatched", "rejected"}
WITH_TEAM = {"dispatched", "accepted", "on_way", "done", "closed"}
PENDING_ALLOWED = {"dispatched": {ESCALATE}, "accepted": {LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE},
                   "on_way": {OVERDUE}, "done": {RATING}}
FOR_THE_VOLUNTEER = {LEASE, LEASE_EXPIRY, APPOINTMENT, OVERDUE}
ENDS_AN_ASSIGNMENT = {"released", "lease_expired", "reopened"}
# What a card's status line says while the order is in these statuses (the group's language is
# English here); in any other status the card says none of them.
CARD_SAYS = {"dispatched": "waiting for a volunteer", "accepted": "taken by", "on_way": "on the way",
             "done": "done by"}
POOR = 2  # bot.domain.satisfaction.POOR: at or below it, a rating reopens the order



async def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: what a refused command must leave as it was."""
    async with world.uow() as uow:
        return {table.name: [tuple(row) for row in (await uow.session.execute(
                    select(table).order_by(*table.primary_key.columns))).all()]
                for table in Base.metadata.sorted_tables}


@dataclass
class State:
    """The rows the invariants read, loaded in one unit of work."""

    now: dt.datetime
    orders: Sequence[Order]
    events: Sequence[OrderEvent]
    items: Sequence[ScheduledItem]
    ratings: Sequence[Rating]
    outbox: Sequence[OutboxMessage]
    members: set[tuple[int, int]]  # (user id, team id) of approved memberships
    team_chats: dict[int, int]  # team id → its group

    @classmethod
    async def load(cls, world: World) -> State:
        async with world.uow() as uow:
            session = uow.session

            async def every(model: Any) -> Sequence[Any]:
                return (await session.scalars(select(model).order_by(model.id))).all()

            volunteers = await every(Volunteer)
            state = cls(now=uow.now(), orders=await every(Order), events=await every(OrderEvent),
                        items=await every(ScheduledItem), ratings=await every(Rating),
                        outbox=await every(OutboxMessage),
                        members={(v.user_id, v.team_id) for v in volunteers if v.status == "approved"},
                        team_chats={t.id: t.chat_id for t in await every(Team) if t.chat_id is not None})
            session.expunge_all()
            return state


def violations(state: State, *, after_sweep: bool = False) -> list[str]:
    """Every broken invariant, one line each (empty: all hold). ``after_sweep``: the sweep has just
    run."""
    problems: list[str] = []
    for order in state.orders:
        found = [*_assignee(order, state), *_schedule(order, state, after_sweep), *_ratings(order, state),
                 *_cards(order, state)]
        problems += [f"order #{order.id} ({order.status}): {problem}" for problem in found]
    return problems


def _assignee(order: Order, state: State) -> list[str]:
    problems = []
    if order.status not in STATUSES:
        problems.append(f"unknown status {order.status!r}")
    holder: int | None = None
    for event in (e for e in state.events if e.order_id == order.id):
        if event.event == "accepted":
            if holder is not None:
                problems.append(f"user {event.actor_id} accepted it while user {holder} still had it")
            holder = event.actor_id
        elif event.event in ENDS_AN_ASSIGNMENT:
            holder = None
    if order.volunteer_id != holder:
        problems.append(f"volunteer is user {order.volunteer_id}, the log says user {holder}")
    if order.status in WITH_VOLUNTEER and order.volunteer_id is None:
        problems.append("no volunteer")
    if order.status in WITHOUT_VOLUNTEER and order.volunteer_id is not None:
        problems.append(f"a volunteer (user {order.volunteer_id})")
    if order.status in WITH_TEAM and order.team_id is None:
        problems.append("no team")
    if order.status == "new" and order.team_id is not None:
        problems.append(f"still with team {order.team_id}")
    if order.status in WITH_VOLUNTEER and order.volunteer_id is not None \
            and (order.volunteer_id, order.team_id) not in state.members:
        problems.append(f"user {order.volunteer_id} is no approved member of its team {order.team_id}")
    return problems


def _schedule(order: Order, state: State, after_sweep: bool) -> list[str]:
    problems = []
    pending = [i for i in state.items if i.order_id == order.id and i.state == "pending"]
    allowed = PENDING_ALLOWED.get(order.status, set())
    for item in pending:
        if item.kind not in allowed:
            problems.append(f"a pending {item.kind} row (step {item.step})")
        elif item.kind in FOR_THE_VOLUNTEER and item.user_id != order.volunteer_id:
            problems.append(f"a pending {item.kind} row for user {item.user_id}, not its volunteer")
        elif item.kind == RATING and item.user_id != order.resident_id:
            problems.append(f"a pending rating row for user {item.user_id}, not its resident")
        if after_sweep and item.due_at <= state.now:
            problems.append(f"a {item.kind} row still due after the sweep")
    kinds = {item.kind for item in pending}
    if order.status == "accepted" and not kinds & {LEASE, LEASE_EXPIRY}:
        problems.append("accepted without a running lease")
    if order.status == "done" and RATING not in kinds:
        problems.append("done without a rating chase")
    return problems


def _cards(order: Order, state: State) -> list[str]:
    problems = []
    header, accept = f"<b>#{order.id} ", cb.pack(cb.ACCEPT, order.id)
    cards = [row for row in state.outbox if row.kind == "send" and row.chat_id in state.team_chats.values()
             and header in str(row.payload.get("text", ""))]
    offers = {int(card): int(team) for team, card in (order.offer_cards or {}).items()}
    current = ({order.card_outbox_id} if order.card_outbox_id is not None else set()) | set(offers)
    chat_teams = {chat: team for team, chat in state.team_chats.items()}
    for card in cards:
        latest = max((row for row in state.outbox if row.id == card.id or row.target_id == card.id),
                     key=lambda row: row.id).payload
        text, shows_accept = str(latest.get("text", "")), accept in _buttons(latest)
        if card.id not in current:
            if shows_accept:
                problems.append(f"card {card.id}, no longer the order's, shows Accept")
            continue
        if shows_accept != (order.status == "dispatched"):
            problems.append(f"card {card.id} {'shows' if shows_accept else 'lacks'} Accept")
        team = chat_teams.get(card.chat_id)
        own_card = card.id == order.card_outbox_id  # its first team's: taken back from there too
        if shows_accept and team != order.team_id and str(team) not in (order.offer_cards or {}) and not own_card:
            problems.append(f"card {card.id} shows Accept in team {team}'s group, whose members may not take it "
                            f"(the order is with team {order.team_id}, offered to {sorted(order.offer_cards or {})})")
        said = [status for status, words in CARD_SAYS.items() if words in text]
        expected = [order.status] if order.status in CARD_SAYS else []
        if said != expected:
            problems.append(f"card {card.id} says {said or 'none of the open statuses'}: {text.splitlines()[-1]!r}")
    return problems


def _buttons(payload: dict[str, Any]) -> list[str]:
    rows = (payload.get("reply_markup") or {}).get("inline_keyboard", [])
    return [str(button.get("callback_data")) for row in rows for button in row]


def _ratings(order: Order, state: State) -> list[str]:
    problems = []
    ratings = {r.round: r for r in state.ratings if r.order_id == order.id}
    if any(round_ > order.round for round_ in ratings):
        problems.append(f"a rating of a later round than {order.round}")
    current = ratings.get(order.round)
    if order.status == "closed" and not order.no_response and (current is None or (current.stars or 0) <= POOR):
        problems.append("closed without a good rating of its round")
    if order.no_response and current is not None:
        problems.append("closed for no response, yet rated")
    if current is not None and order.status != "closed":
        problems.append("rated, yet not closed")
    for round_, rating in ratings.items():
        if round_ < order.round and (rating.stars or 0) > POOR:
            problems.append(f"round {round_} was rated well, yet the order was reopened")
    return problems
