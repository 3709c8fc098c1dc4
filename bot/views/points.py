"""What people are told of points (:mod:`bot.services.points`): the volunteer's balance, code and
QR code; the business's amount buttons and confirmation; both receipts; the coordinators' list of
redemptions per business. No phone numbers anywhere, and only first names and business names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.domain.attachments import QrCode
from bot.i18n import N_, P_
from bot.views import callbacks as cb
from bot.views.common import button, inline
from bot.views.lists import Listing, ListsView
from storage.models import PointCode, User, Volunteer
from storage.points import BusinessTotal

AMOUNT_CHOICES = (5, 10, 20, 50)


def _time(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# Counted nouns, each in the form its number calls for, to put into a line with more than one number.
TIMES = P_("{count} time", "{count} times")
POINTS = P_("{count} point", "{count} points")


class PointsView(ListsView):
    async def empty(self, person: User, per_hour: int) -> None:
        await self.tell(person, P_("🎁 You have no points to use yet. Every hour you serve (requests and activities) "
                                   "earns {per_hour} point.", "🎁 You have no points to use yet. Every hour you "
                                   "serve (requests and activities) earns {per_hour} points.", "per_hour"),
                        per_hour=per_hour)

    async def code(self, person: User, years: Sequence[tuple[int, int, dt.date]], code: str, link: str,
                   expires: dt.datetime, zone: ZoneInfo) -> None:
        """The balance per live year, and the code with its QR code for the business."""
        _ = self.tr(person)
        lines = [_(P_("{points} point earned in {year}, usable until {last}",
                     "{points} points earned in {year}, usable until {last}", "points"), points=left, year=year,
                   last=last.isoformat()) for year, left, last in years if left]
        await self.out.send_file(
            person.telegram_id,
            _("🎁 You have <b>{total}</b> points.\n{lines}\n\nShow this QR code at a partner business, or tell "
              "them the code <b>{code}</b>. It works once, until {until}.\n{link}",
              total=sum(left for _y, left, _l in years), lines="\n".join(lines), code=code,
              until=_time(expires, zone), link=link),
            QrCode(link, "points.png"), recipient=person, protect=True)

    async def ask_amount(self, cashier: User, business: Volunteer, code: PointCode) -> None:
        _ = self.tr(cashier)
        rows = [[button(str(n), cb.PAY_AMOUNT, code.id, n) for n in AMOUNT_CHOICES]]
        await self.tell(cashier, N_("🎁 Points code {code} for {business}: how many points? Tap or type the "
                                    "number."), code=code.code, business=business.organisation or business.name,
                        markup=inline(rows))

    async def confirm(self, cashier: User, business: Volunteer, code: PointCode, amount: int) -> None:
        _ = self.tr(cashier)
        rows = [[button(_("✅ Confirm"), cb.PAY_OK, code.id, amount), button(_("✖ Cancel"), cb.PAY_NO, code.id)]]
        await self.tell(cashier, N_("Take <b>{amount}</b> points with code {code} for {business}?"), amount=amount,
                        code=code.code, business=business.organisation or business.name, markup=inline(rows))

    async def receipts(self, volunteer: User, cashier: User, business: Volunteer, number: int, amount: int,
                       left: int, when: dt.datetime, zone: ZoneInfo) -> None:
        name = business.organisation or business.name
        await self.tell(volunteer, N_("🧾 Receipt #{number}: you used <b>{amount}</b> points at {business} "
                                      "({time}). Points left: {left}."), number=number, amount=amount,
                        business=name, time=_time(when, zone), left=left)
        await self.tell(cashier, P_("🧾 Receipt #{number}: {amount} point taken for {business} ({time}), from "
                                    "volunteer {name}.", "🧾 Receipt #{number}: {amount} points taken for "
                                    "{business} ({time}), from volunteer {name}.", "amount"),
                        number=number, amount=amount, business=name, time=_time(when, zone),
                        name=volunteer.first_name or "—")

    async def per_business(self, where: Listing, reader: User, month: str, rows: Sequence[BusinessTotal]) -> None:
        _ = self.tr(reader)
        if not rows:
            await self.tell(reader, N_("No points were used at a business in {month}."), month=month)
            return
        lines = [_("{business}: {times}, {points}", business=r.organisation or "—",
                   times=_(TIMES, count=r.times), points=_(POINTS, count=r.points)) for r in rows]
        await self.send(where, reader, _("🎁 Points used per business, {month}:", month=month), lines,
                        query={"kind": "redemptions", "month": month})
