"""The fuzzer's authorisation check on its own: it refuses every change the acting person may not
make and lets through what they may (so a green fuzz run means something)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from storage.privacy import forgotten_telegram_id
from tests.fuzz.invariants import Snapshot, foreign_data, unauthorised

RESIDENT, VERA, VICTOR, OUTSIDER, COORDINATOR, ADMIN, STRANGER = 1, 2, 3, 4, 5, 6, 7
REPAIR, GARDEN = 10, 11


def user(telegram_id: int, *, coordinator: bool = False) -> dict[str, Any]:
    return {"telegram_id": telegram_id, "is_coordinator": coordinator, "language": "zh", "on_duty": True,
            "quiet_start": None, "quiet_end": None, "building_id": None, "first_name": f"P{telegram_id}",
            "home_phone": "+8613800000001"}


def member(user_id: int, team_id: int, status: str = "approved") -> dict[str, Any]:
    return {"user_id": user_id, "team_id": team_id, "name": "N", "phone": "1", "status": status, "skills": [],
            "kind": "resident", "organisation": "", "is_leader": False, "community": ""}


def world() -> Snapshot:
    order = {"resident_id": RESIDENT, "status": "dispatched", "team_id": REPAIR, "volunteer_id": None,
             "category": "repair", "description": "d", "community": "c", "building": "b", "address_detail": "a",
             "when_text": "today", "contact_phone": "138", "round": 1, "hours": None, "offer_cards": None,
             "contact_name": "Rita"}
    return Snapshot({
        "orders": {100: order},
        "ratings": {},
        "users": {uid: user(uid * 1000, coordinator=uid == COORDINATOR) for uid in range(1, 8)},
        "teams": {
            REPAIR: {"code": "repair", "name": "维修队", "categories": ["repair"], "chat_id": -1, "active": True},
            GARDEN: {"code": "garden", "name": "园艺队", "categories": ["repair"], "chat_id": -2, "active": True}},
        "subteams": {}, "buildings": {},
        "volunteers": {1: member(VERA, REPAIR), 2: member(VICTOR, REPAIR), 3: member(OUTSIDER, GARDEN),
                       4: member(STRANGER, REPAIR, "pending")},
        "dialogs": {RESIDENT: {"user_id": RESIDENT, "flow": "request", "step": "description", "data": {}}},
    }, last_event=0)


def changed(edit: Any) -> Snapshot:
    after = copy.deepcopy(world())
    edit(after.tables)
    return after


def check(edit: Any, actor: int | None, *, system: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    return unauthorised(world(), changed(edit), actor, {ADMIN}, set(system))


def accept(volunteer: int) -> Any:
    return lambda t: t["orders"][100].update(status="accepted", volunteer_id=volunteer)


@pytest.mark.parametrize("actor", [VERA, VICTOR])
def test_a_member_of_the_orders_team_may_take_it(actor: int) -> None:
    assert check(accept(actor), actor) == []


@pytest.mark.parametrize("actor", [OUTSIDER, STRANGER, None])
def test_members_of_other_teams_pending_members_and_nobody_may_not(actor: int | None) -> None:
    assert check(accept(actor or STRANGER), actor) != []


def test_nobody_assigns_an_order_to_someone_else() -> None:
    assert check(accept(VICTOR), VERA) != []
    assert check(accept(VICTOR), COORDINATOR) == []


def test_the_resident_may_cancel_but_not_move_the_order() -> None:
    assert check(lambda t: t["orders"][100].update(status="cancelled"), RESIDENT) == []
    assert check(lambda t: t["orders"][100].update(team_id=GARDEN), RESIDENT) != []
    assert check(lambda t: t["orders"][100].update(status="cancelled"), VICTOR) == []  # his team's order


def test_a_poor_rating_reopens_the_order_to_the_coordinators() -> None:
    reopen = lambda t: t["orders"][100].update(status="new", team_id=None, volunteer_id=None, round=2)  # noqa: E731
    assert check(reopen, RESIDENT) == []
    assert check(reopen, VERA) != []


def test_a_member_of_a_team_the_ladder_offered_the_order_to_may_take_it_for_that_team() -> None:
    def offered(t: dict[str, Any]) -> None:
        t["orders"][100]["offer_cards"] = {str(GARDEN): 7}

    def taken(t: dict[str, Any]) -> None:
        offered(t)
        t["orders"][100].update(status="accepted", volunteer_id=OUTSIDER, team_id=GARDEN)

    before = changed(offered)
    assert unauthorised(before, changed(taken), OUTSIDER, {ADMIN}, set()) == []
    assert unauthorised(world(), changed(lambda t: (taken(t), t["orders"][100].update(offer_cards=None))),
                        OUTSIDER, {ADMIN}, set()) != []


def test_changes_the_bot_makes_on_its_own_are_allowed() -> None:
    assert check(lambda t: t["orders"][100].update(status="new"), STRANGER, system={100}) == []


def test_new_orders_belong_to_whoever_placed_them() -> None:
    def place(t: dict[str, Any]) -> None:
        t["orders"][101] = {**t["orders"][100], "resident_id": STRANGER}

    assert check(place, STRANGER) == []
    assert check(place, RESIDENT) != []


def test_ratings_only_by_the_orders_resident() -> None:
    def rate(t: dict[str, Any]) -> None:
        t["ratings"][1] = {"order_id": 100, "round": 1, "resident_id": RESIDENT, "stars": 5, "solved": True,
                           "comment": None}

    assert check(rate, RESIDENT) == []
    assert check(rate, VERA) != []


def test_roles_only_by_admins_and_teams_only_by_coordinators() -> None:
    promote = lambda t: t["users"][STRANGER].update(is_coordinator=True)  # noqa: E731
    rename = lambda t: t["teams"][REPAIR].update(name="<b>x</b>")  # noqa: E731
    assert check(promote, ADMIN) == [] and check(promote, COORDINATOR) != [] and check(promote, STRANGER) != []
    assert check(rename, COORDINATOR) == [] and check(rename, VERA) != []


def test_memberships_are_approved_by_coordinators_and_edited_by_their_owner() -> None:
    approve = lambda t: t["volunteers"][4].update(status="approved")  # noqa: E731
    profile = lambda t: t["volunteers"][4].update(name="New name")  # noqa: E731
    assert check(approve, COORDINATOR) == [] and check(approve, STRANGER) != [] and check(approve, VERA) != []
    assert check(profile, STRANGER) == [] and check(profile, VERA) != []


def test_a_dialog_changes_only_through_its_owner() -> None:
    step = lambda t: t["dialogs"][RESIDENT].update(step="community")  # noqa: E731
    assert check(step, RESIDENT) == []
    assert check(step, VERA) != [] and check(step, COORDINATOR) != []
    assert check(lambda t: t["users"][RESIDENT].update(language="en"), STRANGER) != []


def forgotten(uid: int) -> Any:
    """What /forget does to person ``uid``'s rows that the fuzzer tracks."""
    def edit(t: dict[str, Any]) -> None:
        t["users"][uid].update(telegram_id=forgotten_telegram_id(uid), first_name="", home_phone=None,
                               is_coordinator=False)
        for order in t["orders"].values():
            if order["resident_id"] == uid:
                order.update(status="cancelled", contact_phone="", contact_name="", address_detail="", description="")
        for membership in t["volunteers"].values():
            if membership["user_id"] == uid:
                membership.update(name="", phone="", skills=[])
    return edit


@pytest.mark.parametrize("actor", [RESIDENT, VERA, COORDINATOR])
def test_a_forget_of_ones_own_data_is_allowed_and_anyone_elses_is_not(actor: int) -> None:
    assert check(forgotten(actor), actor) == []
    assert foreign_data(world(), changed(forgotten(actor)), actor) == []
    for other in {RESIDENT, VERA, COORDINATOR} - {actor}:
        assert foreign_data(world(), changed(forgotten(other)), actor) != []
        assert foreign_data(world(), changed(forgotten(other)), ADMIN) != []  # whatever the role


def test_mydata_goes_only_to_the_actors_own_chat_about_the_actor() -> None:
    def queued(chat: int, about: int) -> Snapshot:
        return Snapshot(world().tables, 0, {7: (chat, about)})

    assert foreign_data(world(), queued(VERA * 1000, VERA), VERA) == []
    assert foreign_data(world(), queued(VERA * 1000, RESIDENT), VERA) != []  # someone else's data
    assert foreign_data(world(), queued(RESIDENT * 1000, VERA), VERA) != []  # to someone else's chat
    assert foreign_data(world(), queued(-1, VERA), VERA) != []  # to a group


def test_a_building_leader_may_step_down_and_a_comment_may_lose_a_forgotten_name() -> None:
    def building(t: dict[str, Any]) -> None:
        t["buildings"][1] = {"code": "b1", "community": "c", "name": "1", "leader_id": VERA}

    def rated(t: dict[str, Any]) -> None:
        t["ratings"][1] = {"order_id": 100, "round": 1, "resident_id": RESIDENT, "stars": 5, "solved": True,
                           "comment": "thanks Vera"}

    before, after = changed(building), changed(building)
    after.tables["buildings"][1]["leader_id"] = None
    assert unauthorised(before, after, VERA, {ADMIN}, set()) == []
    assert unauthorised(before, after, VICTOR, {ADMIN}, set()) != []
    before, after = changed(rated), changed(rated)
    after.tables["ratings"][1]["comment"] = "thanks ***"
    assert unauthorised(before, after, VERA, {ADMIN}, set()) == []
    after.tables["ratings"][1]["comment"] = "rewritten"
    assert unauthorised(before, after, VERA, {ADMIN}, set()) != []
