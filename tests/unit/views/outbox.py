"""An outbox in a list: what the views' port (bot.views.port.Outbox) needs, with no database, so
views can be rendered and their rows read back in unit tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from storage.models import OutboxMessage


class ListOutbox:
    def __init__(self) -> None:
        self.rows: list[OutboxMessage] = []

    def _add(self, row: OutboxMessage) -> OutboxMessage:
        row.id = len(self.rows) + 1
        self.rows.append(row)
        return row

    async def send(self, chat_id: int, payload: dict[str, Any], *, recipient_user_id: int | None = None,
                   method: str = "sendMessage") -> OutboxMessage:
        return self._add(OutboxMessage(kind="send", chat_id=chat_id, recipient_user_id=recipient_user_id,
                                       payload={"method": method, **payload}))

    async def edit(self, target_id: int, payload: dict[str, Any]) -> OutboxMessage:
        target = self.rows[target_id - 1]
        return self._add(OutboxMessage(kind="edit", chat_id=target.chat_id, target_id=target_id,
                                       payload={"method": "editMessageText", **payload}))

    async def by_ids(self, row_ids: Iterable[int]) -> dict[int, OutboxMessage]:
        wanted = set(row_ids)
        return {row.id: row for row in self.rows if row.id in wanted}

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The texts (or captions) queued, in order; only those for ``chat_id`` if given."""
        return [str(row.payload.get("text", row.payload.get("caption", ""))) for row in self.rows
                if chat_id is None or row.chat_id == chat_id]
