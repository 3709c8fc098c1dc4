"""Storage test helpers: committed users and orders to race over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.dbfixtures import UowFactory

ORDER_FIELDS: dict[str, Any] = {
    "status": "new",
    "category": "shopping",
    "community": "Maple Court",
    "when_text": "today",
    "contact_name": "Ann",
    "contact_phone": "+15550100",
}

AddUsers = Callable[..., Awaitable[list[int]]]
AddOrder = Callable[..., Awaitable[int]]


@pytest.fixture
def add_users(uow_factory: UowFactory) -> AddUsers:
    """``await add_users(tg_id, ...)``: ensure and commit these users; their row ids, in order."""

    async def add(*telegram_ids: int) -> list[int]:
        async with uow_factory() as uow:
            ids = [(await uow.users.ensure(tg, f"user{tg}")).id for tg in telegram_ids]
            await uow.commit()
        return ids

    return add


@pytest.fixture
def add_order(uow_factory: UowFactory, add_users: AddUsers) -> AddOrder:
    """``await add_order(status="dispatched", ...)``: a committed order of a fresh resident; its id."""
    residents = iter(range(5_000_000_001, 5_000_001_000))

    async def add(**fields: Any) -> int:
        if "resident_id" not in fields:
            (fields["resident_id"],) = await add_users(next(residents))
        async with uow_factory() as uow:
            order = await uow.orders.add(**{**ORDER_FIELDS, **fields})
            await uow.commit()
        return order.id

    return add
