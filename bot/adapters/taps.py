"""Each tap (callback query) is answered at most once. Telegram takes one answer per query and
refuses another (400 "query is too old … or query ID is invalid"); a second answer can come from
a copy of the update delivered again, from the guard and the buttons' handler both, or from the
apology of an update parked after its handler answered. Whoever answers claims the query first."""

from __future__ import annotations

from collections import OrderedDict

REMEMBERED = 10_000  # a query is answerable for seconds; this many covers far more than that


class AnsweredTaps:
    """The callback queries this bot answered (or is answering), the latest :data:`REMEMBERED`."""

    def __init__(self, limit: int = REMEMBERED) -> None:
        self._limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def claim(self, query_id: str) -> bool:
        """True the first time for ``query_id`` (the caller answers it); False ever after."""
        if query_id in self._ids:
            return False
        self._ids[query_id] = None
        if len(self._ids) > self._limit:
            self._ids.popitem(last=False)
        return True
