"""Teams' activities and their sign-ups (see :class:`storage.models.Activity`). Places are won by a
conditional UPDATE of ``activities.taken`` and its row count, never by counting rows in Python."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Activity
from storage.repositories import _Repository


class ActivityRepository(_Repository):
    async def get(self, activity_id: int) -> Activity | None:
        return await self.session.get(Activity, activity_id)

    async def by_code(self, code: str) -> Activity | None:
        return await self.session.scalar(select(Activity).where(Activity.code == code.upper()))
