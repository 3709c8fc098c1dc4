"""An order's history as a coordinator reads it (:mod:`bot.services.history`): one line per event,
oldest first — the local time, what happened, who (a first name; "the bot" for the system). No
phone numbers, no addresses: the card has those for whoever needs them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.attachments import DataFile
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import button
from bot.views.lists import Listing, ListsView
from storage.models import User

# order_events.event and the audit events about an order (bot.domain.lifecycle.MOVES names the moves').
EVENT_NAMES = {
    "created": N_("placed"), "shown": N_("shown to a new coordinator"), "dispatched": N_("sent to a team"),
    "rejected": N_("rejected"), "accepted": N_("accepted"), "on_way": N_("on the way"), "done": N_("done"),
    "released": N_("released"), "lease_expired": N_("lease expired"), "rated": N_("rated"),
    "no_response": N_("closed without a rating"), "cancelled": N_("cancelled"), "escalated": N_("escalated"),
    "hours": N_("hours given"), "reopened": N_("reopened"),
}


@dataclass(frozen=True)
class Happening:
    """One line of the history: when, the event's code, the actor's first name (None: the bot)."""

    at: dt.datetime
    event: str
    actor: str | None


class HistoryView(ListsView):
    async def order(self, where: Listing, reader: User, order_id: int, happenings: Sequence[Happening],
                    zone: ZoneInfo) -> None:
        _ = self.tr(reader)
        lines = [_("{time} · {event} · {who}", time=h.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                   event=_(EVENT_NAMES[h.event]) if h.event in EVENT_NAMES else h.event,
                   who=(h.actor or "—") if h.actor is not None else _("the bot")) for h in happenings]
        await self.send(where, reader, _("📜 History of request #{number}:", number=order_id),
                        lines or [_("Nothing recorded yet.")], query={"kind": "history", "order": order_id},
                        actions=[button(_("📤 Export without personal data"), cb.HISTORY_EXPORT, order_id)])

    async def export(self, chat_id: int, reader: User, order_id: int, content: str) -> None:
        """The history as a JSON document (bot.services.history.anonymous): events, times, statuses,
        team codes and roles, no names, phones or addresses."""
        _ = self.tr(reader)
        await self.out.send_file(chat_id, _("📤 The history of request #{number}, without personal data.",
                                            number=order_id),
                                 DataFile(f"request-{order_id}-history.json", content),
                                 recipient=reader if chat_id == reader.telegram_id else None)
