"""Roster fixtures: two teams in a migrated database (sqlite, and postgresql with TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_CATEGORIES
from tests.support.dbfixtures import UowFactory

SKILLS = tuple(DEFAULT_CATEGORIES)


@pytest.fixture
async def teams(uow_factory: UowFactory) -> dict[str, int]:
    async with uow_factory() as uow:
        repair = await uow.teams.add("repair", "维修队", ["repair"])
        delivery = await uow.teams.add("delivery", "配送队", ["delivery", "housekeeping"])
        await uow.commit()
        return {"repair": repair.id, "delivery": delivery.id}
