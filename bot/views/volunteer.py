"""What a volunteer is told privately: the details of a request they took (protected from
forwarding), their keyboard for it, the lease question and the hours question (what they see of
their hours is :mod:`bot.views.hours`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.lifecycle import OrderStatus
from bot.domain.phones import shown_phone
from bot.i18n import N_, P_
from bot.views import callbacks as cb
from bot.views.common import View, button, inline, when_label
from bot.views.port import Markup
from storage.models import Order, User

# What the volunteer's details message says once the order is finished or no longer theirs, and why.
REDACTED_DETAILS = N_("Request <b>#{number}</b> ({category}): the resident's contact and address were removed "
                      "from this message to protect their privacy.")
WHY_FINISHED = N_("Request #{number} is finished, so the resident's contact details (and any voice note or "
                  "photo) were removed from our chat to protect their privacy. Thank you for your help!")
WHY_LEFT = N_("Request #{number} is no longer yours, so the resident's contact details (and any voice note or "
              "photo) were removed from our chat to protect their privacy.")
DELETE_IT_YOURSELF = N_("Telegram lets me delete a voice note or photo only within 48 hours of sending it: "
                        "please delete the older one above yourself.")


class VolunteerView(View):
    def keyboard(self, volunteer: User, order: Order) -> Markup:
        """On my way, Done, Release — only Done once they are on their way."""
        _ = self.tr(volunteer)
        rows = [[button(_("🚶 On my way"), cb.ON_WAY, order.id), button(_("✔️ Done"), cb.DONE, order.id)],
                [button(_("↩️ Release"), cb.RELEASE, order.id)]]
        if order.status == OrderStatus.ON_WAY:
            rows[0] = [button(_("✔️ Done"), cb.DONE, order.id)]
        return inline(rows)

    async def details(self, volunteer: User, order: Order) -> dict[str, int]:
        """The resident's contact and address, privately and protected from forwarding; returns the
        messages' outbox rows (``details``, ``voice``, ``photo``), which are redacted when the order
        finishes or leaves the volunteer (:meth:`redact`)."""
        _ = self.tr(volunteer)
        rows = {"volunteer": volunteer.id}
        rows["details"] = await self.tell(
            volunteer,
            N_("You took request <b>#{number}</b> ({category}).\n👤 {name}\n📞 {phone}\n📍 {community}, {building}, "
               "{detail}\n🕒 {when}\n📝 {description}\nPlease keep these details private."),
            number=order.id, category=self.category_label(volunteer, order.category), name=order.contact_name,
            phone=shown_phone(order.contact_phone), community=order.community, building=order.building,
            detail=order.address_detail, when=when_label(_, order.when_text),
            description=order.description or (_("(voice note below)") if order.voice_file_id else _("(photo below)")),
            markup=self.keyboard(volunteer, order), protect=True,
        )
        if order.voice_file_id:
            rows["voice"] = await self.out.send_voice(volunteer.telegram_id, order.voice_file_id,
                                                      recipient=volunteer, protect=True)
        if order.photo_file_id:
            rows["photo"] = await self.out.send_photo(volunteer.telegram_id, order.photo_file_id,
                                                      recipient=volunteer, protect=True)
        return rows

    async def redact(self, volunteer: User, order: Order, details: int | None, media: Sequence[int],
                     *, finished: bool, old_media: bool) -> None:
        """The details message ``details`` becomes a line with no contact and no buttons (its row
        keeps only that), the voice note and photo ``media`` are deleted, and the volunteer is told
        why; ``old_media``: some could not be deleted any more (older than Telegram allows)."""
        _ = self.tr(volunteer)
        category = self.category_label(volunteer, order.category)
        if details is not None:
            text = _(REDACTED_DETAILS, number=order.id, category=category)
            await self.out.edit(details, text, None)
            await self.out.keep_only(details, {"method": "sendMessage", "text": text, "parse_mode": "HTML"})
        for row in media:
            await self.out.delete(row)
        why = _(WHY_FINISHED if finished else WHY_LEFT, number=order.id)
        if old_media:
            why += "\n" + _(DELETE_IT_YOURSELF)
        await self.out.send(volunteer.telegram_id, why, recipient=volunteer)

    async def lease_question(self, volunteer: User, order: Order, minutes: int) -> None:
        """The claim lease ran out: is the volunteer still on it?"""
        _ = self.tr(volunteer)
        rows = [[button(_("🚶 On my way"), cb.ON_WAY, order.id), button(_("⏳ Still mine"), cb.KEEP, order.id)],
                [button(_("↩️ Release"), cb.RELEASE, order.id)]]
        await self.tell(volunteer, P_("You took request #{number} a while ago. Are you still on it? Without an answer "
                                      "in {minutes} minute it goes back to the team's group.",
                                      "You took request #{number} a while ago. Are you still on it? Without an answer "
                                      "in {minutes} minutes it goes back to the team's group.", "minutes"),
                        number=order.id, minutes=minutes, markup=inline(rows))

    async def rated(self, volunteer: User, order_id: int, stars: int) -> None:
        """The resident's verdict on a request the volunteer did, in words."""
        await self.tell(volunteer, N_("The resident rated request #{number}: {verdict}. Thank you for your help!"),
                        number=order_id, verdict=self.verdict(volunteer, stars))

    async def ask_hours(self, volunteer: User, order: Order, *, typed: bool = True) -> None:
        """``typed``: a typed number is read too (not while another dialog takes what they type)."""
        rows = [[button(h, cb.HOURS, order.id, h) for h in cb.HOUR_CHOICES]]
        question = N_("Thank you! How many hours did request #{number} take? Tap or type a number.") if typed else \
            N_("Thank you! How many hours did request #{number} take? Tap a number.")
        await self.tell(volunteer, question, number=order.id, markup=inline(rows))
