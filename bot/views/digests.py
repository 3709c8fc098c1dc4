"""The digests (bot.services.schedule.digests): the centre's daily digest, each team's weekly list
of open requests in its group, and the monthly report to team leaders and the centre."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.domain.redact import redact
from bot.i18n import N_, P_, Translate
from bot.views.common import STATUS_NAMES, Reader, View, day_label, month_label, when_label
from storage.models import Order, Team, User

DIGEST_LINES = 15  # requests listed per section of a digest; the rest are counted
MESSAGE_LIMIT = 4000  # below Telegram's 4096 characters (tags included, so on the safe side)
DIGEST_FIELD_LIMIT = 30  # characters of a community or time on a digest line

# A team's month: team name, requests completed, star ratings, their average (None without any),
# requests closed with no response.
MonthRow = tuple[str, int, int, float | None, int]
# A team's activities in the month: team name, activities held, the target (``[activities] per_team_per_month``).
ActivityRow = tuple[str, int, int]


def fit(lines: Sequence[str]) -> str:
    """Lines joined into one message, cut at a line boundary to fit Telegram's limit."""
    lines = list(lines)
    text = "\n".join(lines)
    while len(text) > MESSAGE_LIMIT and len(lines) > 1:
        lines.pop()
        text = "\n".join(lines) + "\n…"
    return text


def duration(_: Translate, minutes: int) -> str:
    if minutes < 120:
        return _("{minutes} min", minutes=minutes)
    if minutes < 48 * 60:
        return _("{hours} h", hours=minutes // 60)
    return _("{days} d", days=minutes // (24 * 60))


def team_heading(_: Translate, team: str | None, count: int) -> str:
    if team is None:
        return _("<b>Not dispatched yet</b> · {count}", count=count)
    return _("<b>{team}</b> · {count}", team=team, count=count)


def section(_: Translate, title: str, groups: Sequence[tuple[str | None, Sequence[str]]]) -> list[str]:
    """A digest section: ``title`` (the total), then by team a heading and its lines, up to
    ``DIGEST_LINES`` lines in all; the rest are counted."""
    total = sum(len(entries) for _team, entries in groups)
    lines, shown = [_(title, count=total)], 0
    for team, entries in groups:
        if shown >= DIGEST_LINES:
            break
        lines.append(team_heading(_, team, len(entries)))
        lines += entries[: DIGEST_LINES - shown]
        shown += min(len(entries), DIGEST_LINES - shown)
    if total > shown:
        lines.append(_("… and {count} more", count=total - shown))
    return lines


def month_line(_: Translate, row: MonthRow) -> str:
    team, completed, rated, average, no_response = row
    return _("<b>{team}</b>: {completed} completed · average {stars} ({rated} rated) · no response: {no_response}",
             team=team, completed=completed, rated=rated, no_response=no_response,
             stars="—" if average is None else "★" + format(average, ".1f"))


def activity_line(_: Translate, row: ActivityRow) -> str:
    team, held, target = row
    met = _("✅ target met") if held >= target else _("❌ below target")
    return _(P_("{team}: {held} of {target} activity · {met}", "{team}: {held} of {target} activities · {met}",
                "target"), team=team, held=held, target=target, met=met)


class DigestsView(View):
    async def daily(self, readers: Sequence[Reader], date: dt.date,
                    waiting: Sequence[tuple[str | None, Sequence[tuple[Order, int]]]],
                    late: Sequence[tuple[str | None, Sequence[tuple[Order, int, str]]]]) -> None:
        """The centre's daily digest: by team (``None``: not dispatched), the requests nobody took in
        time with the minutes they waited, and those past their time with the minutes since the
        agreed time and the volunteer's first name. One "all clear" line when there are none."""
        for reader in readers:
            _ = self.reading(reader)
            day = day_label(_, date)
            if not waiting and not late:
                text = _("📋 Digest {day}: all clear — no request waits too long or is past its time.", day=day)
                await self.out.send(reader.chat_id, text, recipient=reader.user)
                continue
            lines = [_("<b>📋 Digest {day}</b>", day=day)]
            if waiting:
                lines += section(_, N_("⏳ Not taken in time: {count}"), [
                    (team, [_("{urgent}#{number} {category} · {community} · waiting {waited}",
                              urgent="🚨 " if o.urgent else "", number=o.id,
                              category=self.category_label(reader.user, o.category),
                              community=redact(o.community, DIGEST_FIELD_LIMIT),
                              waited=duration(_, minutes)) for o, minutes in entries])
                    for team, entries in waiting])
            if late:
                lines += section(_, N_("⏰ Past their time: {count}"), [
                    (team, [_("#{number} {category} · {community} · {volunteer} · {late} late", number=o.id,
                              category=self.category_label(reader.user, o.category),
                              community=redact(o.community, DIGEST_FIELD_LIMIT),
                              volunteer=volunteer, late=duration(_, minutes))
                            for o, minutes, volunteer in entries])
                    for team, entries in late])
            await self.out.send(reader.chat_id, fit(lines), recipient=reader.user)

    async def weekly(self, team: Team, orders: Sequence[Order]) -> None:
        """A team's open requests, in its group: number, urgency, category, community, time and status
        only — never a name, phone number, address or description (the time and community are
        scrubbed of phone-like numbers, as they are typed by residents)."""
        _ = self.group_tr()
        assert team.chat_id is not None
        if not orders:
            await self.out.send(team.chat_id, _("📋 This week team {team} has no open requests. Thank you all!",
                                                team=team.name))
            return
        lines = [_("<b>📋 Open requests of team {team}: {count}</b>", team=team.name, count=len(orders))]
        for order in orders[: DIGEST_LINES * 2]:
            lines.append(_("{urgent}#{number} {category} · {community} · 🕒 {when} · {status}",
                           urgent="🚨 " if order.urgent else "", number=order.id,
                           category=self.category_label(None, order.category),
                           community=redact(order.community, DIGEST_FIELD_LIMIT),
                           when=redact(when_label(_, order.when_text), DIGEST_FIELD_LIMIT),
                           status=_(STATUS_NAMES[order.status])))
        if len(orders) > DIGEST_LINES * 2:
            lines.append(_("… and {count} more", count=len(orders) - DIGEST_LINES * 2))
        await self.out.send(team.chat_id, fit(lines))

    async def monthly_to_leader(self, leader: User, first: dt.date, row: MonthRow,
                                activities: ActivityRow | None = None) -> None:
        """A team's month (``first``: its first day), privately to one of its leaders."""
        _ = self.tr(leader)
        lines = [_("📊 Your team's month {month}:", month=month_label(_, first)), month_line(_, row)]
        if activities is not None:
            lines.append(activity_line(_, activities))
        await self.out.send(leader.telegram_id, "\n".join(lines), recipient=leader)

    async def monthly_to_centre(self, readers: Sequence[Reader], first: dt.date, rows: Sequence[MonthRow],
                                activities: Sequence[ActivityRow] = ()) -> None:
        """Every team's month to the centre; then each active team's activities against the target."""
        for reader in readers:
            _ = self.reading(reader)
            lines = [_("<b>📊 Monthly report {month}</b>", month=month_label(_, first))]
            lines += [month_line(_, row) for row in rows] or [_("No teams yet.")]
            if activities:
                lines.append(_("<b>📅 Activities held</b>"))
                lines += [activity_line(_, row) for row in activities]
            await self.out.send(reader.chat_id, fit(lines), recipient=reader.user)
