"""Order transitions: one conditional UPDATE decides every race."""

from __future__ import annotations

import asyncio

from storage.uow import UnitOfWork
from tests.storage.conftest import AddOrder, AddUsers
from tests.support.dbfixtures import FakeClock, UowFactory


async def _order(uow_factory: UowFactory, order_id: int) -> tuple[str, int | None]:
    async with uow_factory() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        return order.status, order.volunteer_id


async def test_fifty_volunteers_race_to_accept(uow_factory: UowFactory, add_users: AddUsers,
                                               add_order: AddOrder) -> None:
    volunteers = await add_users(*range(9_000_000_000_000, 9_000_000_000_050))
    order_id = await add_order(status="dispatched")

    async def accept(volunteer_id: int) -> bool:
        async with uow_factory() as uow:
            won = await uow.orders.transition(order_id, ["dispatched"], "accepted", volunteer_id=volunteer_id)
            await uow.commit()
        return won

    results = await asyncio.gather(*(accept(v) for v in volunteers))

    assert results.count(True) == 1
    assert results.count(False) == 49
    winner = volunteers[results.index(True)]
    assert await _order(uow_factory, order_id) == ("accepted", winner)


async def test_transition_checks_the_status(uow_factory: UowFactory, add_order: AddOrder,
                                            clock: FakeClock) -> None:
    order_id = await add_order(status="new")
    created = clock()
    clock.advance(60)

    async with uow_factory() as uow:
        assert not await uow.orders.transition(order_id, ["dispatched"], "accepted")
        assert await uow.orders.transition(order_id, ["new", "reopened"], "dispatched", team_id=None)
        assert not await uow.orders.transition(order_id + 1000, ["dispatched"], "accepted")
        await uow.commit()

    async with uow_factory() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        assert order.status == "dispatched"
        assert order.created_at == created
        assert order.updated_at == clock()


async def test_transition_with_where_conditions(uow_factory: UowFactory, add_users: AddUsers,
                                                add_order: AddOrder) -> None:
    mine, other = await add_users(301, 302)
    order_id = await add_order(status="dispatched")

    async with uow_factory() as uow:
        # Only an order nobody holds can be taken.
        assert await uow.orders.transition(order_id, ["dispatched"], "accepted",
                                           where={"volunteer_id": None}, volunteer_id=mine)
        assert not await uow.orders.transition(order_id, ["accepted"], "accepted",
                                               where={"volunteer_id": None}, volunteer_id=other)
        # Only the volunteer who holds it can finish it.
        assert not await uow.orders.transition(order_id, ["accepted"], "done",
                                               where={"volunteer_id": other}, hours=1.0)
        assert await _order_in(uow, order_id) == ("accepted", mine)
        assert await uow.orders.transition(order_id, ["accepted"], "done",
                                           where={"volunteer_id": mine, "round": 1}, hours=1.5)
        await uow.commit()

    async with uow_factory() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        assert (order.status, order.volunteer_id, order.hours) == ("done", mine, 1.5)
        # A poor rating reopens it for a second round, only once.
        assert await uow.orders.transition(order_id, ["done"], "reopened", where={"round": 1},
                                           round=2, volunteer_id=None)
        assert not await uow.orders.transition(order_id, ["done", "reopened"], "reopened",
                                               where={"round": 1}, round=2)
        await uow.commit()

    async with uow_factory() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        assert (order.status, order.volunteer_id, order.round) == ("reopened", None, 2)


async def _order_in(uow: UnitOfWork, order_id: int) -> tuple[str, int | None]:
    order = await uow.orders.get(order_id)
    assert order is not None
    return order.status, order.volunteer_id


async def test_events_and_queries(uow_factory: UowFactory, add_users: AddUsers, add_order: AddOrder,
                                  clock: FakeClock) -> None:
    (resident,) = await add_users(401)
    first = await add_order(resident_id=resident)
    second = await add_order(resident_id=resident, status="dispatched")
    await add_order(status="dispatched")  # someone else's

    async with uow_factory() as uow:
        await uow.orders.record(first, resident, "created", category="shopping")
        await uow.orders.record(first, None, "timeout")
        await uow.commit()

    async with uow_factory() as uow:
        events = await uow.orders.events(first)
        assert [(e.event, e.actor_id, e.detail) for e in events] == [
            ("created", resident, {"category": "shopping"}), ("timeout", None, {})]
        assert all(e.created_at == clock() for e in events)
        assert [o.id for o in await uow.orders.of_resident(resident)] == [second, first]
        assert [o.id for o in await uow.orders.of_resident(resident, limit=1)] == [second]
        dispatched = await uow.orders.with_status(["dispatched"])
        assert second in [o.id for o in dispatched] and first not in [o.id for o in dispatched]


async def test_dispatch_races_to_the_same_team_make_one_change(uow_factory: UowFactory, add_order: AddOrder) -> None:
    """``unless``: twenty dispatches of one order to one team at once change it once; a NULL team
    differs from every team, and the team it already has is refused."""
    async with uow_factory() as uow:
        repair, clean = (await uow.teams.add("repair", "Repair", ["repair"])).id, \
            (await uow.teams.add("clean", "Clean", ["repair"])).id
        await uow.commit()
    order_id = await add_order(status="new")

    async def dispatch(team_id: int) -> bool:
        async with uow_factory() as uow:
            moved = await uow.orders.transition(order_id, ["new", "dispatched"], "dispatched",
                                                unless={"team_id": team_id}, team_id=team_id)
            await uow.commit()
        return moved

    assert (await asyncio.gather(*(dispatch(repair) for _ in range(20)))).count(True) == 1
    assert await dispatch(clean)  # another team: moved
    assert not await dispatch(clean)
    async with uow_factory() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None and (order.status, order.team_id) == ("dispatched", clean)
