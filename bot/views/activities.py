"""Team activities as people see them: the live card in a team's group (places taken, the waitlist,
Sign up), the creator's questions, and what volunteers and leaders are told privately.

A card shows what the creator typed (title, place, what to bring: escaped by the translator, phone
numbers masked by the port) and counts — never who signed up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import activities as rules
from bot.i18n import N_, P_, Translate
from bot.views import callbacks as cb
from bot.views.common import CATEGORY_NAMES, View, button, day_label, in_rows, inline
from bot.views.port import Markup
from storage.models import Activity, Team, User

QUESTIONS = {
    "team": N_("📅 New activity. Which team holds it?"),
    "title": N_("📅 What is the activity called? (e.g. Free haircuts at the community centre)"),
    "start": N_("🕒 When does it start? Type the day and time, e.g. 12-5 9:00"),
    "length": N_("⏳ How long does it last?"),
    "place": N_("📍 Where is it? (e.g. Community centre, room 2)"),
    "capacity": N_("👥 How many volunteers are needed? Tap a number or type one."),
    "bring": N_("🎒 What should volunteers bring? Type it, or tap Nothing."),
    "deadline": N_("⏰ When does sign-up close?"),
    "skill": N_("🛠 Does it need a particular skill?"),
}
DEADLINE_LABELS = {"0": N_("At the start"), "3": N_("3 hours before"), "24": N_("1 day before"),
                   "48": N_("2 days before")}
STATUS_LABELS = {rules.IN: N_("✅ signed up"), rules.WAITLIST: N_("⏳ on the waitlist")}
CHANGE_QUESTIONS = {
    "time": N_("🕒 Type the new day and time, e.g. 12-5 9:00 (the length stays the same)."),
    "place": N_("📍 Type the new place."),
    "capacity": N_("👥 Type the new number of places."),
}
STOP = N_("✖️ Stop")
CHANGED = {"time": N_("🕒 Time changed"), "place": N_("📍 Place changed"), "capacity": N_("👥 Places changed")}


@dataclass(frozen=True)
class Shown:
    """An activity with what its card needs besides the row: the team's name, the waitlist's length,
    the centre's time zone."""

    activity: Activity
    team: str
    waiting: int
    timezone: ZoneInfo


class ActivitiesView(View):
    # -- the card --------------------------------------------------------------------------------------
    def when(self, _: Translate, activity: Activity, timezone: ZoneInfo) -> str:
        start, end = activity.starts_at.astimezone(timezone), activity.ends_at.astimezone(timezone)
        start_time, end_time = start.strftime("%H:%M"), end.strftime("%H:%M")
        return _("{day} {start}–{end}", day=day_label(_, start.date()), start=start_time, end=end_time)

    def _moment(self, _: Translate, moment: dt.datetime, timezone: ZoneInfo) -> str:
        local = moment.astimezone(timezone)
        return f"{day_label(_, local.date())} {local:%H:%M}"

    def details(self, _: Translate, shown: Shown) -> list[str]:
        """The lines every message about the activity shares: title, team, time, place."""
        activity = shown.activity
        return [_("📅 <b>{title}</b> · {team}", title=activity.title, team=shown.team),
                _("🕒 {when}", when=self.when(_, activity, shown.timezone)),
                _("📍 {place}", place=activity.place)]

    def card_text(self, shown: Shown) -> str:
        _ = self.group_tr()
        activity = shown.activity
        lines = self.details(_, shown)
        if activity.bring:
            lines.append(_("🎒 Bring: {bring}", bring=activity.bring))
        if activity.skill:
            lines.append(_("🛠 Needs: {skill}", skill=_(CATEGORY_NAMES.get(activity.skill, activity.skill))))
        if activity.status == rules.CANCELLED:
            lines.append(_("❌ This activity is cancelled."))
            return "\n".join(lines)
        lines.append(_("⏰ Sign up by {deadline}",
                       deadline=self._moment(_, activity.signup_deadline, shown.timezone)))
        lines.append(_("👥 Signed up: {taken}/{capacity}", taken=activity.taken, capacity=activity.capacity))
        if shown.waiting:
            lines.append(_("⏳ Waitlist: {count}", count=shown.waiting))
        elif activity.taken >= activity.capacity:
            lines.append(_("Full: new sign-ups go on the waitlist."))
        return "\n".join(lines)

    def card_markup(self, activity: Activity) -> Markup:
        if activity.status != rules.OPEN:
            return inline([])
        _ = self.group_tr()
        return inline([[button(_("🙋 Sign up"), cb.ACT_SIGN_UP, activity.id),
                        button(_("↩️ Cancel my sign-up"), cb.ACT_WITHDRAW, activity.id)]])

    async def post_card(self, team: Team, shown: Shown) -> int:
        assert team.chat_id is not None
        return await self.out.send(team.chat_id, self.card_text(shown), markup=self.card_markup(shown.activity))

    async def edit_cards(self, shown: Shown) -> None:
        """Every card of the activity, edited in place (the outbox keeps only the newest pending edit)."""
        text, markup = self.card_text(shown), self.card_markup(shown.activity)
        for row in (shown.activity.cards or {}).values():
            await self.out.edit(int(row), text, markup)

    # -- the creator's dialog --------------------------------------------------------------------------
    async def ask(self, user: User, step: str, *, teams: Sequence[Team] = (), categories: Sequence[str] = ()) -> None:
        _ = self.tr(user)
        rows: list[list[dict[str, Any]]] = []
        if step == "team":
            rows = in_rows([button(t.name, cb.ACT_TEAM, t.id) for t in teams], 2)
        elif step == "length":
            rows = in_rows([button(_("{hours} h", hours=h), cb.ACT_PICK, "length", h) for h in rules.LENGTH_HOURS], 5)
        elif step == "capacity":
            rows = in_rows([button(n, cb.ACT_PICK, "capacity", n) for n in rules.CAPACITY_CHOICES], 4)
        elif step == "bring":
            rows = [[button(_("Nothing"), cb.ACT_PICK, "bring", rules.NONE)]]
        elif step == "deadline":
            rows = in_rows([button(_(DEADLINE_LABELS[h]), cb.ACT_PICK, "deadline", h) for h in rules.DEADLINE_HOURS], 2)
        elif step == "skill":
            rows = [[button(_("No, anyone can help"), cb.ACT_PICK, "skill", rules.NONE)],
                    *in_rows([button(_(CATEGORY_NAMES.get(c, c)), cb.ACT_PICK, "skill", c) for c in categories], 3)]
        rows.append([button(_(STOP), cb.ACT_ABORT)])
        await self.tell(user, QUESTIONS[step], markup=inline(rows))

    async def summary(self, user: User, shown: Shown, others: Sequence[Team], also: Sequence[int]) -> None:
        """The draft as its card will read, with Publish and a button per other team to announce to."""
        _ = self.tr(user)
        text = _("Please check the activity, then tap Publish:") + "\n\n" + self.card_text(shown)
        rows = in_rows([button(("✅ " if t.id in also else "🆕 ") + _("Also to {team}", team=t.name),
                               cb.ACT_ALSO, t.id) for t in others], 2)
        rows.append([button(_("📣 Publish"), cb.ACT_PUBLISH), button(_(STOP), cb.ACT_ABORT)])
        await self.out.send(user.telegram_id, text, recipient=user, markup=inline(rows))

    def manage_markup(self, user: User, activity: Activity) -> Markup:
        _ = self.tr(user)
        return inline([[button(_("🕒 Change time"), cb.ACT_CHANGE, activity.id, "time"),
                        button(_("📍 Change place"), cb.ACT_CHANGE, activity.id, "place")],
                       [button(_("👥 Change places"), cb.ACT_CHANGE, activity.id, "capacity"),
                        button(_("❌ Cancel activity"), cb.ACT_CANCEL, activity.id)]])

    async def published(self, user: User, shown: Shown, groups: int) -> None:
        _ = self.tr(user)
        text = _(P_("📣 Published in {count} team group. Check-in code: <b>{code}</b>",
                    "📣 Published in {count} team groups. Check-in code: <b>{code}</b>"), count=groups,
                 code=shown.activity.code) + "\n\n" + "\n".join(self.details(_, shown))
        await self.out.send(user.telegram_id, text, recipient=user, markup=self.manage_markup(user, shown.activity))

    async def manage(self, user: User, shown: Shown) -> None:
        _ = self.tr(user)
        text = "\n".join(self.details(_, shown)) + "\n" + _(
            "👥 Signed up: {taken}/{capacity}", taken=shown.activity.taken, capacity=shown.activity.capacity)
        await self.out.send(user.telegram_id, text, recipient=user, markup=self.manage_markup(user, shown.activity))

    async def ask_change(self, user: User, field: str) -> None:
        await self.tell(user, CHANGE_QUESTIONS[field], markup=inline([[button(self.tr(user)(STOP), cb.ACT_ABORT)]]))

    async def confirm_cancel(self, user: User, shown: Shown) -> None:
        _ = self.tr(user)
        text = _("Cancel this activity? Everyone signed up will be told.") + "\n\n" + "\n".join(self.details(_, shown))
        await self.out.send(user.telegram_id, text, recipient=user,
                            markup=inline([[button(_("❌ Yes, cancel it"), cb.ACT_CANCEL_SURE, shown.activity.id)]]))

    # -- volunteers ------------------------------------------------------------------------------------
    async def about(self, user: User, shown: Shown, message: str, *, withdraw: bool = False, **params: object) -> None:
        """``message`` (a msgid) to one person, followed by the activity's details."""
        _ = self.tr(user)
        markup = inline([[button(_("↩️ Cancel my sign-up"), cb.ACT_WITHDRAW, shown.activity.id)]]) if withdraw else None
        await self.out.send(user.telegram_id, _(message, **params) + "\n\n" + "\n".join(self.details(_, shown)),
                            recipient=user, markup=markup)

    async def changed(self, user: User, shown: Shown, field: str) -> None:
        await self.about(user, shown, N_("{what}: please note the activity's new details."),
                         what=self.tr(user)(CHANGED[field]))

    async def overview(self, user: User, mine: Sequence[tuple[Shown, str]], managed: Sequence[Shown],
                       can_create: bool) -> None:
        """"📅 Activities": the person's upcoming sign-ups (each with its cancel button) and, for
        leaders and coordinators, the activities they manage and New activity."""
        _ = self.tr(user)
        lines = [_("<b>📅 My activities</b>")]
        rows: list[list[dict[str, Any]]] = []
        for number, (shown, status) in enumerate(mine, 1):
            lines.append(f"{number}. " + _("{title} · {when} · {status}", title=shown.activity.title,
                                           when=self.when(_, shown.activity, shown.timezone),
                                           status=_(STATUS_LABELS[status])))
            rows.append([button(_("↩️ Cancel {number}", number=number), cb.ACT_WITHDRAW, shown.activity.id)])
        if not mine:
            lines.append(_("You have not signed up for any activity yet. Look for the cards in your team's group."))
        if managed:
            lines += ["", _("<b>Activities you manage</b>")]
            for shown in managed:
                lines.append(_("{title} · {when} · {taken}/{capacity}, waitlist {waiting}",
                               title=shown.activity.title, when=self.when(_, shown.activity, shown.timezone),
                               taken=shown.activity.taken, capacity=shown.activity.capacity, waiting=shown.waiting))
                rows.append([button(_("✏️ {title}", title=shown.activity.title[:24]), cb.ACT_MANAGE,
                                    shown.activity.id)])
        if can_create:
            rows.append([button(_("🆕 New activity"), cb.ACT_NEW)])
        await self.out.send(user.telegram_id, "\n".join(lines), recipient=user, markup=inline(rows) if rows else None)

    async def quota(self, leader: User, team: Team, held: int, target: int) -> None:
        await self.tell(leader, P_("📅 Team {team} has {held} activity this month; the target is {target}. "
                                   "Tap 📅 Activities, then New activity, to plan one.",
                                   "📅 Team {team} has {held} activities this month; the target is {target}. "
                                   "Tap 📅 Activities, then New activity, to plan one.", "held"),
                        team=team.name, held=held, target=target)
