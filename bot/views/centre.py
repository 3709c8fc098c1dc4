"""What the centre (coordinators and admins) is told: a new or reopened request's card with a
button per team, the card's edits once a team has it, the reject reasons, join applications and
one-line notices. Who reads is decided by the caller (bot.services.audiences) and handed in as
:class:`~bot.views.common.Reader`\\ s: the centre's group, else each coordinator and admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import Reader, View, button, inline
from bot.views.port import Markup
from bot.views.registration import profile_lines
from bot.views.team_card import shown_fields
from storage.models import Order, Team, User

# How a dispatch was made when no coordinator tapped (follow_ups passes it as the move's reason).
ROUTED_BY_RULE, ROUTED_EMERGENCY = "rule", "emergency"
REJECT_REASONS = {"area": N_("Outside this community's service area"), "duplicate": N_("Duplicate request"),
                  "scope": N_("Not a volunteer service: please contact the property management or call 12345")}


class CentreView(View):
    async def message(self, readers: Sequence[Reader], message: str, *, markup: Markup | None = None,
                      **params: object) -> None:
        """Tell the centre ``message`` (a msgid), in each reader's language."""
        for reader in readers:
            await self.out.send(reader.chat_id, self.reading(reader)(message, **params), recipient=reader.user,
                                markup=markup)

    def dispatch_keyboard(self, order: Order, teams: Sequence[Team]) -> Markup:
        _ = self.group_tr()
        rows = [[button(_("➡️ {team}", team=t.name), cb.DISPATCH, order.id, t.id)] for t in teams]
        rows.append([button(_("Reject"), cb.REJECT, order.id)])
        if order.voice_file_id:  # played to the tapping coordinator privately, never in a group
            rows.append([button(_("🎤 Listen"), cb.LISTEN, order.id)])
        rows.append([button(_("📜 History"), cb.HISTORY, order.id)])  # sent privately to the tapping coordinator
        return inline(rows)

    async def new_order(self, readers: Sequence[Reader], order: Order, teams: Sequence[Team], *,
                        reopened: bool = False, note: str | None = None) -> list[int]:
        """The order's card to the centre; returns the outbox rows (one per reader)."""
        _ = self.group_tr()
        headline = _("♻️ Request #{number} reopened", number=order.id) if reopened else \
            _("🆕 New request #{number}", number=order.id)
        body = _("{category}{urgent} · {community} · {when}\n📝 {description}",
                 category=self.category_label(None, order.category),
                 urgent=" · " + _("URGENT") if order.urgent else "",
                 **shown_fields(_, order))
        if note:
            body += "\n" + note
        if not teams:
            body += "\n" + _("No team takes this kind of request yet: create one with /team add.")
        markup = self.dispatch_keyboard(order, teams)
        return [await self.out.send(reader.chat_id, headline + "\n" + body, recipient=reader.user, markup=markup,
                                    reread=True)  # cards_with_team extends it; redacted fields only
                for reader in readers]

    async def cards_with_team(self, cards: Sequence[int], order: Order, team: Team,
                              other_teams: Sequence[Team], *, taken_by: str | None = None,
                              routed: str | None = None) -> None:
        """The centre's cards of ``order`` while ``team`` has it: the card says so (and how it got
        there when no coordinator sent it: ``routed``) and keeps only what is still possible — while
        nobody has taken it, moving it to another team or Reject; once taken (by ``taken_by``), nothing."""
        _ = self.group_tr()  # the language the card was written in
        if routed == ROUTED_EMERGENCY:
            line = _("🚨 Emergency: sent straight to team {team}, no tap needed. Tap another team to move it.",
                     team=team.name)
        elif routed == ROUTED_BY_RULE:
            line = _("🧭 Routed by a rule to team {team}. Tap another team to move it.", team=team.name)
        else:
            line = _("➡️ Sent to team {team}.", team=team.name)
        if taken_by is not None:
            line += "\n" + _("Status: ✅ taken by {volunteer}", volunteer=taken_by)
        markup = inline([]) if taken_by is not None else self.dispatch_keyboard(order, other_teams)
        for card, text in (await self.out.texts(cards)).items():
            await self.out.edit(card, text + "\n" + line, markup)

    async def voice(self, coordinator: User, order: Order) -> None:
        """The order's voice note, to a coordinator's private chat only, protected from forwarding."""
        assert order.voice_file_id is not None
        await self.tell(coordinator, N_("🎤 The voice note of request #{number}:"), number=order.id, protect=True)
        await self.out.send_voice(coordinator.telegram_id, order.voice_file_id, recipient=coordinator, protect=True)

    def reject_reason(self, reader: User, reason: str) -> str:
        """A rejection's reason in the reader's language: a reason button's label, or the typed text."""
        return self.tr(reader)(REJECT_REASONS.get(reason, reason))

    async def ask_reject_reason(self, coordinator: User, order: Order) -> None:
        _ = self.tr(coordinator)
        rows = [[button(_(label), cb.REJECT_REASON, order.id, code)] for code, label in REJECT_REASONS.items()]
        await self.tell(coordinator, N_("Why is request #{number} rejected? Tap a reason or type one."),
                        number=order.id, markup=inline(rows))

    async def join_application(self, readers: Sequence[Reader], volunteer_id: int, profile: dict[str, Any],
                               team: Team, *, approved: bool) -> None:
        """A new membership, with the volunteer's profile, to the centre: Approve/Deny while it waits
        for approval, for information when none is needed. A group reads it without the phone."""
        for reader in readers:
            _ = self.tr(reader.user)
            if approved:
                headline = _("✅ {name} joined team {team} (no approval needed).", name=profile.get("name", ""),
                             team=team.name)
                markup = None
            else:
                headline = _("🙋 {name} asks to join team {team}.", name=profile.get("name", ""), team=team.name)
                markup = inline([[button(_("Approve"), cb.APPROVE, volunteer_id),
                                  button(_("Deny"), cb.DENY, volunteer_id)]])
            lines = profile_lines(self, reader.user, profile, phone=reader.user is not None)
            await self.out.send(reader.chat_id, "\n".join([headline, *lines]), recipient=reader.user, markup=markup)
