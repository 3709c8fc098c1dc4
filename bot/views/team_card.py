"""An order's card in a team's group: posted with an Accept button, edited at every step (its
team's card and any the escalation ladder offered to other teams), bumped when nobody takes it.

A group only ever sees an order's category, community, time, short description and urgency — never
a name, phone number or address. The free-text fields are redacted one by one here; the whole text
(the status line may hold a volunteer's name) is masked by the port, as every group text is.
"""

from __future__ import annotations

from bot.domain.redact import redact
from bot.i18n import Translate
from bot.views import callbacks as cb
from bot.views.common import View, button, inline, when_label
from bot.views.port import Markup
from storage.models import Order, Team

DESCRIPTION_LIMIT = 120  # characters of a description on a card
FIELD_LIMIT = 64  # characters of a community or time on a card


def shown_fields(_: Translate, order: Order) -> dict[str, str]:
    """What a card shows of the order's free text (community, time, description), redacted."""
    return {"community": redact(order.community, FIELD_LIMIT),
            "when": redact(when_label(_, order.when_text), FIELD_LIMIT),
            "description": redact(order.description, DESCRIPTION_LIMIT) if order.description
            else _("(photo)") if order.photo_file_id and not order.voice_file_id else _("(voice note)")}


class TeamCardView(View):
    def text(self, order: Order, status_line: str) -> str:
        """The card's text, before the port masks it for the group."""
        _ = self.group_tr()
        return _("{urgent}<b>#{number} {category}</b>\n📍 {community}\n🕒 {when}\n📝 {description}",
                 urgent="🚨 " + _("URGENT") + " · " if order.urgent else "",
                 number=order.id, category=self.category_label(None, order.category),
                 **shown_fields(_, order)) + "\n" + status_line

    def accept_keyboard(self, order: Order) -> Markup:
        _ = self.group_tr()
        return inline([[button(_("✋ Accept"), cb.ACCEPT, order.id)]])

    async def post(self, order: Order, team: Team, *, offered: bool = False) -> int:
        """Post an order card with an Accept button in the team's group (``offered``: a card the
        escalation ladder offers to another team); returns the outbox row id."""
        _ = self.group_tr()
        assert team.chat_id is not None
        status = _("Status: waiting for a volunteer")
        if offered:
            status = self.offered_line(status)
        return await self.out.send(team.chat_id, self.text(order, status), markup=self.accept_keyboard(order))

    async def edit(self, order: Order, status_line: str, *, accept_button: bool = False) -> None:
        """Edit the order's cards in place — its team's, and any offered to other teams (each edit
        is queued after its card). An offered card keeps saying it was offered, whatever the status:
        its group should still know why a request of another team is in its chat."""
        markup = self.accept_keyboard(order) if accept_button else inline([])
        offered = {int(card) for card in (order.offer_cards or {}).values()}
        for card in [order.card_outbox_id, *sorted(offered)]:
            if card is not None:
                line = self.offered_line(status_line) if card in offered else status_line
                await self.out.edit(int(card), self.text(order, line), markup)

    def offered_line(self, status_line: str) -> str:
        """A status line of a card the escalation ladder offered to another team, with the label."""
        _ = self.group_tr()
        return _("↪️ Offered to your team too") + "\n" + status_line

    async def bump(self, order: Order, team: Team) -> None:
        """Escalation step 1: the card again at the bottom of the team's group, as a reply to it."""
        _ = self.group_tr()
        assert team.chat_id is not None
        await self.out.send(team.chat_id, _("⏫ Request #{number} is still waiting for a volunteer. Who can take it?",
                                            number=order.id), markup=self.accept_keyboard(order))
