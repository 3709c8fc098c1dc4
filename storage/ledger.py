"""The hours ledger (see :class:`storage.models.HoursEntry`): rows are added, never updated."""

from __future__ import annotations

import datetime as dt

from storage.models import HoursEntry
from storage.repositories import _Repository


class LedgerRepository(_Repository):
    async def add(self, user_id: int, source: str, minutes: int, served_at: dt.datetime, *,
                  ended_at: dt.datetime | None = None, team_id: int | None = None, order_id: int | None = None,
                  round: int | None = None, activity_id: int | None = None, corrects_id: int | None = None,
                  claimed_minutes: int | None = None, reason: str | None = None,
                  created_by: int | None = None) -> HoursEntry:
        """A new entry (``source``: order | activity | honour | correction)."""
        entry = HoursEntry(user_id=user_id, source=source, minutes=minutes, served_at=served_at, ended_at=ended_at,
                           team_id=team_id, order_id=order_id, round=round, activity_id=activity_id,
                           corrects_id=corrects_id, claimed_minutes=claimed_minutes, reason=reason,
                           created_by=created_by, created_at=self.clock())
        self.session.add(entry)
        await self.session.flush()
        return entry
