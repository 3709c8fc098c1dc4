"""What people are told of service hours (:mod:`bot.services.hours`): a volunteer's summary with
the certificate buttons, a team leader's table, a coordinator's confirmations and choices. Minutes
are shown as hours; honour hours always on their own line."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import N_, P_
from bot.views import callbacks as cb
from bot.views.common import View, button, inline
from storage.ledger import Sums
from storage.models import HoursEntry, User

SOURCE_NAMES = {"order": N_("requests"), "activity": N_("activities"), "honour": N_("honour hours"),
                "correction": N_("correction")}
PERIOD_NAMES = {"month": N_("This month"), "year": N_("This year"), "lastyear": N_("Last year")}
EXPORT_NAMES = {"this": N_("This month"), "last": N_("Last month")}
HONOUR_USAGE = N_("Usage: /honour REGISTRY_NUMBER HOURS REASON, e.g. /honour 3101 2 flood relief")
CORRECT_USAGE = N_("Usage: /correct ENTRY +/-HOURS REASON, e.g. /correct 815 -0.5 left early "
                   "(/ledger REGISTRY_NUMBER lists the entries)")
LEDGER_USAGE = N_("Usage: /ledger REGISTRY_NUMBER")
CERTIFICATE_USAGE = N_("Usage: /certificate REGISTRY_NUMBER (this year's certificate of that volunteer)")
TEAM_ROWS = 60  # a message stays readable; the export has everything


@dataclass(frozen=True)
class HourTotals:
    """A person's minutes by source; ``served`` is what counts as service (orders + activities)."""

    orders: Sums
    activities: Sums
    honour: Sums

    @property
    def served(self) -> Sums:
        return Sums(*(a + b for a, b in zip(self.orders, self.activities, strict=True)))


def hours(minutes: int) -> str:
    """Minutes as hours, at most two decimals: 90 → "1.5"."""
    return f"{round(minutes / 60, 2):g}"


class HoursView(View):
    async def summary(self, volunteer: User, totals: HourTotals) -> None:
        _ = self.tr(volunteer)
        served, orders, activities, honour = totals.served, totals.orders, totals.activities, totals.honour
        lines = [_("⏱ Your service hours"),
                 _("This month: {hours} h (requests {orders} h, activities {activities} h)",
                   hours=hours(served.month), orders=hours(orders.month), activities=hours(activities.month)),
                 _("This year: {hours} h (requests {orders} h, activities {activities} h)",
                   hours=hours(served.year), orders=hours(orders.year), activities=hours(activities.year)),
                 _("In total: {hours} h (requests {orders} h, activities {activities} h)",
                   hours=hours(served.total), orders=hours(orders.total), activities=hours(activities.total))]
        if honour.total:
            lines.append(_("Honour hours from the centre (counted apart): {hours} h", hours=hours(honour.total)))
        lines.append(_("Thank you! Tap below for a service-record certificate."))
        rows = [[button(_(PERIOD_NAMES[p]), cb.HOURS_CERTIFICATE, p) for p in cb.CERTIFICATE_PERIODS]]
        await self.out.send(volunteer.telegram_id, "\n".join(lines), recipient=volunteer, markup=inline(rows))

    async def team(self, leader: User, team: str, rows: Sequence[tuple[str, HourTotals]]) -> None:
        _ = self.tr(leader)
        lines = [_("⏱ Service hours of team {team} (this month / this year):", team=team)]
        for name, totals in rows[:TEAM_ROWS]:
            line = f"• {html.escape(name)}: {hours(totals.served.month)} / {hours(totals.served.year)} h"
            if totals.honour.year:
                line += " " + _("(+{hours} h honour)", hours=hours(totals.honour.year))
            lines.append(line)
        if not rows:
            lines.append(_("No hours recorded yet."))
        elif len(rows) > TEAM_ROWS:
            lines.append(_("… and {count} more.", count=len(rows) - TEAM_ROWS))
        await self.out.send(leader.telegram_id, "\n".join(lines), recipient=leader)

    async def honoured(self, coordinator: User, volunteer: User, entry_id: int, minutes: int, reason: str) -> None:
        await self.tell(coordinator, P_("Added {hours} honour hour (entry #{number}): {reason}",
                                        "Added {hours} honour hours (entry #{number}): {reason}", "hours"),
                        hours=hours(minutes), number=entry_id, reason=reason)
        await self.tell(volunteer, P_("The centre thanks you with {hours} honour hour: {reason}",
                                      "The centre thanks you with {hours} honour hours: {reason}", "hours"),
                        hours=hours(minutes), reason=reason)

    async def corrected(self, coordinator: User, entry_id: int, minutes: int, net: int) -> None:
        await self.tell(coordinator, N_("Entry #{number} corrected by {change} h; it now counts {hours} h."),
                        number=entry_id, change=("+" if minutes > 0 else "-") + hours(abs(minutes)), hours=hours(net))

    async def entries(self, coordinator: User, number: str, listed: Sequence[tuple[HoursEntry, int]],
                      local: dt.tzinfo) -> None:
        """A volunteer's entries of the year, newest first, with the numbers /correct takes."""
        _ = self.tr(coordinator)
        lines = [_("Hours entries of volunteer {number} this year:", number=number)]
        for entry, net in listed:
            lines.append(f"#{entry.id} {entry.served_at.astimezone(local):%Y-%m-%d} {_(SOURCE_NAMES[entry.source])}"
                         f"{f' #{entry.order_id}' if entry.order_id else ''}: {hours(net)} h")
        if not listed:
            lines.append(_("No hours recorded yet."))
        await self.out.send(coordinator.telegram_id, "\n".join(lines), recipient=coordinator)

    async def export_choices(self, coordinator: User) -> None:
        _ = self.tr(coordinator)
        rows = [[button(_(EXPORT_NAMES[w]), cb.HOURS_EXPORT, w) for w in cb.EXPORT_MONTHS]]
        await self.tell(coordinator, N_("Export the service records of which month for the national volunteer "
                                        "registry?"), markup=inline(rows))

    async def coordinator_help(self, coordinator: User) -> None:
        """What a coordinator can do with hours (the commands take a registry number or entry)."""
        _ = self.tr(coordinator)
        usages = (HONOUR_USAGE, CORRECT_USAGE, LEDGER_USAGE, CERTIFICATE_USAGE)
        await self.out.send(coordinator.telegram_id, "\n".join(
            [*(_(u) for u in usages), "", _("To add honour hours now, type the volunteer's registry number.")]),
            recipient=coordinator)

    async def ask_honour_hours(self, coordinator: User, volunteer: User) -> None:
        rows = [[button(h, cb.HONOUR_HOURS, h) for h in cb.HONOUR_CHOICES]]
        await self.tell(coordinator, N_("How many honour hours for {name}? Tap a number, or type /honour for another "
                                        "amount."), name=volunteer.first_name, markup=inline(rows))
