"""Ratings (one per order and round) and dialog state that survives a restart."""

from __future__ import annotations

import asyncio

from tests.storage.conftest import AddOrder, AddUsers
from tests.support.dbfixtures import FakeClock, UowFactory


async def test_one_rating_per_order_and_round(uow_factory: UowFactory, add_users: AddUsers,
                                              add_order: AddOrder, clock: FakeClock) -> None:
    (resident,) = await add_users(601)
    order_id = await add_order(resident_id=resident, status="done")

    async with uow_factory() as uow:
        assert await uow.ratings.add(order_id, 1, resident, stars=None, solved=False)
        assert not await uow.ratings.add(order_id, 1, resident, stars=5, solved=True)
        await uow.commit()

    async with uow_factory() as uow:
        assert not await uow.ratings.add(order_id, 1, resident, stars=5, solved=True)
        assert await uow.ratings.add(order_id, 2, resident, stars=4, solved=True)
        await uow.commit()

    async with uow_factory() as uow:
        first = await uow.ratings.get(order_id, 1)
        second = await uow.ratings.get(order_id, 2)
        assert first is not None and second is not None
        assert (first.stars, first.solved, first.resident_id, first.created_at) == (None, False, resident, clock())
        assert (second.stars, second.solved) == (4, True)
        assert await uow.ratings.get(order_id, 3) is None


async def test_concurrent_ratings_of_one_round(uow_factory: UowFactory, add_users: AddUsers,
                                               add_order: AddOrder) -> None:
    (resident,) = await add_users(602)
    order_id = await add_order(resident_id=resident, status="done")

    async def rate(stars: int) -> bool:
        async with uow_factory() as uow:
            added = await uow.ratings.add(order_id, 1, resident, stars=stars, solved=True)
            await uow.commit()
        return added

    results = await asyncio.gather(*(rate(stars) for stars in range(1, 6)))

    assert results.count(True) == 1
    async with uow_factory() as uow:
        rating = await uow.ratings.get(order_id, 1)
        assert rating is not None and rating.stars == results.index(True) + 1


async def test_dialog_set_get_clear(uow_factory: UowFactory, add_users: AddUsers, clock: FakeClock) -> None:
    ann, bob = await add_users(9_000_000_000_601, 9_000_000_000_602)

    async with uow_factory() as uow:
        assert await uow.dialogs.get(ann) is None
        data = {"category": "shopping", "urgent": True, "items": ["bread", "milk"], "note": "门口"}
        await uow.dialogs.set(ann, "order", "address", data)
        data["category"] = "changed afterwards"  # the stored state is a copy
        await uow.dialogs.set(bob, "register", "phone", {})
        await uow.commit()

    clock.advance(90)
    async with uow_factory() as uow:  # as after a restart: read back from the database
        dialog = await uow.dialogs.get(ann)
        assert dialog is not None
        assert (dialog.flow, dialog.step) == ("order", "address")
        assert dialog.data == {"category": "shopping", "urgent": True, "items": ["bread", "milk"], "note": "门口"}
        await uow.dialogs.set(ann, "order", "when", {**dialog.data, "building": "7"})
        await uow.commit()

    async with uow_factory() as uow:
        dialog = await uow.dialogs.get(ann)
        assert dialog is not None
        assert dialog.step == "when" and dialog.data["building"] == "7"
        assert dialog.updated_at == clock()
        await uow.dialogs.clear(ann)
        assert await uow.dialogs.get(ann) is None
        await uow.dialogs.clear(ann)  # clearing nothing is fine
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.dialogs.get(ann) is None
        other = await uow.dialogs.get(bob)
        assert other is not None and (other.flow, other.step, other.data) == ("register", "phone", {})
