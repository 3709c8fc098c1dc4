"""What attendance at an activity looks like: the leader's check-in notice (the code and its QR
code), the list of who has come with a ✅ button each, the summary at the end; and what a volunteer
hears when checked in or out. Everything goes to private chats: names are never shown in a group."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.domain.attachments import QrCode
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import View, button, inline
from bot.views.port import Markup
from storage.attendance import NO_SHOW, PRESENT, WAITLIST, Attendee
from storage.models import Activity, User


def hours_text(minutes: int) -> str:
    """Minutes as hours the way the hours ledger shows them (1.5, 2, 0.25)."""
    return f"{round(minutes / 60, 2):g}"


def clock_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.hour}:{local.minute:02d}"


class AttendanceView(View):
    def check_out_keyboard(self, person: User, activity: Activity) -> Markup:
        return inline([[button(self.tr(person)(N_("👋 Check out")), cb.CHECK_OUT, activity.id)]])

    async def choose(self, leader: User, activities: Sequence[Activity], zone: ZoneInfo) -> None:
        """Several activities could be checked in now: one button each."""
        rows = [[button(f"📍 {a.title[:40]} · {clock_time(a.starts_at, zone)}", cb.CHECKIN_SHOW, a.id)]
                for a in activities]
        await self.tell(leader, N_("Which activity is the check-in for?"), markup=inline(rows))

    async def notice(self, leader: User, activity: Activity, link: str, zone: ZoneInfo) -> None:
        """The QR code to show on site, with the short code for those who type it."""
        await self.out.send_file(
            leader.telegram_id,
            self.tr(leader)(N_("📍 Check-in for <b>{title}</b> ({start}–{end})\nShow this QR code on site. "
                               "Volunteers scan it, or send me the code <b>{code}</b>.\n{link}"),
                            title=activity.title, start=clock_time(activity.starts_at, zone),
                            end=clock_time(activity.ends_at, zone), code=activity.code, link=link),
            QrCode(link, f"checkin-{activity.code.lower()}.png"), recipient=leader)

    async def roll(self, leader: User, activity: Activity, attendees: Sequence[Attendee], zone: ZoneInfo) -> None:
        """Who has a place and who has come; a ✅ button for each not here yet (also the waiting
        list: marking one present gives them the place), refresh, and finish."""
        _ = self.tr(leader)
        lines = [_("👥 <b>{title}</b>: who has come", title=activity.title)]
        marks = []
        for signup, person in attendees:
            name = person.first_name or "—"
            if signup.attendance == PRESENT and signup.checked_in_at is not None:
                line = _("✅ {name}, here since {time}", name=name, time=clock_time(signup.checked_in_at, zone))
                if signup.checked_out_at is not None:
                    line = _("✅ {name}, {start}–{end}", name=name, start=clock_time(signup.checked_in_at, zone),
                             end=clock_time(signup.checked_out_at, zone))
            elif signup.attendance == NO_SHOW:
                line = _("❌ {name}, did not come", name=name)
            elif signup.status == WAITLIST:
                line = _("⏳ {name}, on the waiting list", name=name)
                marks.append(button(_("✅ {name} is here (gets a place)", name=name[:24]), cb.CHECKIN_MARK,
                                    signup.id))
            else:
                line = _("▫️ {name}, not here yet", name=name)
                marks.append(button(_("✅ {name} is here", name=name[:24]), cb.CHECKIN_MARK, signup.id))
            lines.append(line)
        if not attendees:
            lines.append(_("Nobody has signed up yet."))
        rows = [[mark] for mark in marks]
        rows.append([button(_("🔄 Refresh"), cb.CHECKIN_LIST, activity.id),
                     button(_("🏁 Finish"), cb.CHECKIN_FINISH, activity.id)])
        await self.out.send(leader.telegram_id, "\n".join(lines), recipient=leader, markup=inline(rows))

    async def confirm_finish(self, leader: User, activity: Activity) -> None:
        _ = self.tr(leader)
        await self.tell(leader, N_("Finish <b>{title}</b> now? Everyone still here is checked out now, and "
                                   "those who did not come are recorded as absent."), title=activity.title,
                        markup=inline([[button(_("🏁 Yes, finish now"), cb.CHECKIN_FINISH_YES, activity.id)]]))

    async def checked_in(self, person: User, activity: Activity, at: dt.datetime, zone: ZoneInfo, *,
                         by_hand: bool = False) -> None:
        message = N_("The team leader marked you present at <b>{title}</b> ({time}). Thank you for coming! "
                     "When you leave, tap Check out.") if by_hand else \
            N_("Welcome to <b>{title}</b>! You are checked in at {time}. Thank you for coming. "
               "When you leave, tap Check out (or send the code again).")
        await self.tell(person, message, title=activity.title, time=clock_time(at, zone),
                        markup=self.check_out_keyboard(person, activity))

    async def already_in(self, person: User, activity: Activity, since: dt.datetime, zone: ZoneInfo) -> None:
        await self.tell(person, N_("You are already checked in at <b>{title}</b> (since {time}). When you leave, "
                                   "tap Check out."), title=activity.title, time=clock_time(since, zone),
                        markup=self.check_out_keyboard(person, activity))

    async def checked_out(self, person: User, activity: Activity, at: dt.datetime, minutes: int, zone: ZoneInfo, *,
                          at_the_end: bool = False) -> None:
        message = N_("<b>{title}</b> has ended: you were checked out at {time}. {hours} h of service recorded. "
                     "Thank you!") if at_the_end else \
            N_("You are checked out of <b>{title}</b> at {time}. {hours} h of service recorded. Thank you, "
               "see you next time!")
        await self.tell(person, message, title=activity.title, time=clock_time(at, zone), hours=hours_text(minutes))

    async def summary(self, leader: User, activity: Activity, *, present: int, absent: int, minutes: int) -> None:
        await self.tell(leader, N_("🏁 <b>{title}</b> is finished. Came: {present}. Did not come: {absent}. "
                                   "Hours of service: {hours} h."), title=activity.title, present=present,
                        absent=absent, hours=hours_text(minutes))

