"""The lifecycle table on its own (pure: no database, no Telegram): the statuses are the stored
strings, the groups agree with each other and with the moves, and the moves' audit names are the
ones the database already holds."""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import (
    ACTIVE,
    DISPATCHABLE,
    FINAL,
    FINISHED,
    GIVE_BACKS,
    MOVES,
    OPEN,
    WITH_TEAM,
    Move,
    OrderStatus,
    can,
    moves_from,
)

S = OrderStatus


def test_the_statuses_are_the_strings_in_the_database() -> None:
    assert [status.value for status in S] == [
        "new", "dispatched", "accepted", "on_way", "done", "closed", "cancelled", "rejected"]
    assert "on_way" in ACTIVE and can(Move.DONE, "on_way")  # a plain string read from a row will do


def test_the_groups_fit_together() -> None:
    assert OPEN == DISPATCHABLE | ACTIVE
    assert OPEN - {S.NEW} == WITH_TEAM
    assert OPEN | {S.DONE} | FINAL == set(S) and not OPEN & FINAL and S.DONE not in OPEN | FINAL
    assert {S.DONE, S.CLOSED} == FINISHED


def test_the_moves_have_the_audit_names_reports_read() -> None:
    assert {move: rule.event for move, rule in MOVES.items()} == {
        Move.DISPATCH: "dispatched", Move.REJECT: "rejected", Move.ACCEPT: "accepted", Move.ON_WAY: "on_way",
        Move.DONE: "done", Move.RELEASE: "released", Move.LEASE_EXPIRED: "lease_expired", Move.CLOSE: "rated",
        Move.REOPEN: "rated", Move.NO_RESPONSE: "no_response", Move.CANCEL: "cancelled"}
    assert set(MOVES) == set(Move)


@pytest.mark.parametrize("status", sorted(FINAL))
def test_nothing_moves_a_final_order(status: OrderStatus) -> None:
    assert moves_from(status) == frozenset()


def test_every_status_is_reachable_from_a_new_order_and_every_open_one_can_end() -> None:
    reached, frontier = {S.NEW}, [S.NEW]
    while frontier:
        for move in moves_from(frontier.pop()):
            if MOVES[move].target not in reached:
                reached.add(MOVES[move].target)
                frontier.append(MOVES[move].target)
    assert reached == set(S)
    assert all(can(Move.CANCEL, status) for status in OPEN)


def test_what_each_status_allows() -> None:
    assert moves_from(S.NEW) == {Move.DISPATCH, Move.REJECT, Move.CANCEL}
    assert moves_from(S.DISPATCHED) == {Move.DISPATCH, Move.REJECT, Move.ACCEPT, Move.CANCEL}
    assert moves_from(S.ACCEPTED) == {Move.ON_WAY, Move.DONE, Move.RELEASE, Move.LEASE_EXPIRED, Move.CANCEL}
    assert moves_from(S.ON_WAY) == {Move.DONE, Move.RELEASE, Move.CANCEL}
    assert moves_from(S.DONE) == {Move.CLOSE, Move.REOPEN, Move.NO_RESPONSE}


def test_giving_an_order_back_forgets_who_held_it_and_a_lease_never_takes_it_from_the_road() -> None:
    for move in GIVE_BACKS:
        assert (MOVES[move].target, MOVES[move].forgets) == (S.DISPATCHED, frozenset({"volunteer_id"}))
    assert MOVES[Move.LEASE_EXPIRED].sources < MOVES[Move.RELEASE].sources
    assert not can(Move.LEASE_EXPIRED, S.ON_WAY)
    assert MOVES[Move.REOPEN].forgets == {"volunteer_id", "team_id"}  # back to the centre: no team, nobody


def test_an_order_waiting_again_after_a_volunteer_had_it_is_held_by_nobody() -> None:
    for move, rule in MOVES.items():
        back_to_waiting = rule.target in DISPATCHABLE and rule.sources <= ACTIVE | {S.DONE}
        assert back_to_waiting == ("volunteer_id" in rule.forgets), move
