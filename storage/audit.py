"""The audit trail (see :class:`storage.models.AuditEvent`): rows are added, never changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from storage.models import AuditEvent
from storage.repositories import _Repository


class AuditRepository(_Repository):
    async def record(self, actor_id: int | None, subject: str, subject_id: int, event: str,
                     **detail: Any) -> AuditEvent:
        """One event about ``subject`` #``subject_id``; ``detail`` holds ids and codes only."""
        row = AuditEvent(actor_id=actor_id, subject=subject, subject_id=subject_id, event=event, detail=detail,
                         created_at=self.clock())
        self.session.add(row)
        await self.session.flush()
        return row

    async def of_subject(self, subject: str, subject_id: int) -> Sequence[AuditEvent]:
        """What happened to one thing, oldest first."""
        return (await self.session.scalars(
            select(AuditEvent).where(AuditEvent.subject == subject, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id))).all()
