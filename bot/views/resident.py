"""What a resident is told: the menu, the request dialog's questions and summary, their requests,
each step of a request, and the rating questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain import satisfaction
from bot.domain.lifecycle import OPEN
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import (
    MENU_LANGUAGE,
    MENU_MY_ORDERS,
    MENU_NEW_REQUEST,
    SATISFACTION_NAMES,
    STATUS_NAMES,
    View,
    button,
    in_rows,
    inline,
)
from bot.views.port import Markup
from storage.models import Order, User


class ResidentView(View):
    def menu_keyboard(self, user: User) -> Markup:
        _ = self.tr(user)
        return {"keyboard": [[{"text": _(MENU_NEW_REQUEST)}],
                             [{"text": _(MENU_MY_ORDERS)}, {"text": _(MENU_LANGUAGE)}]],
                "resize_keyboard": True, "is_persistent": True}

    async def welcome(self, user: User) -> None:
        await self.tell(user, N_("Hello {name}! This is the community volunteer service.\n"
                                 "Tap <b>New request</b> when you need help; a volunteer team will take it."),
                        name=user.first_name, markup=self.menu_keyboard(user))

    async def language_choice(self, user: User) -> None:
        markup = inline([[button("中文", cb.LANGUAGE, "zh"), button("English", cb.LANGUAGE, "en")]])
        await self.tell(user, N_("Choose your language:"), markup=markup)

    async def language_set(self, user: User) -> None:
        await self.tell(user, N_("Language set to English."), markup=self.menu_keyboard(user))

    async def ask_request_step(self, user: User, step: str, draft: dict[str, Any]) -> None:
        """The next question of the new-request dialog."""
        _ = self.tr(user)
        if step == "category":
            buttons = [button(self.category_label(user, c), cb.CATEGORY, c) for c in self.settings.categories]
            rows = in_rows(buttons, 2)
            rows.append([button(_("Cancel"), cb.ABORT)])
            await self.tell(user, N_("What kind of help do you need?"), markup=inline(rows))
        elif step == "description":
            await self.tell(user, N_("Describe what you need, in a message or a voice note."),
                            markup={"remove_keyboard": True})
        elif step == "community":
            await self.tell(user, N_("Which community (residential compound) are you in?"))
        elif step == "building":
            await self.tell(user, N_("Which building and unit?"))
        elif step == "detail":
            await self.tell(user, N_("Room number and anything else the volunteer should know about the address:"))
        elif step == "when":
            rows = [[button(_("Today"), cb.WHEN, "today"), button(_("Tomorrow"), cb.WHEN, "tomorrow")],
                    [button(_("Another day"), cb.WHEN, "other")]]
            await self.tell(user, N_("When do you need it? Tap a button or type a day and time."), markup=inline(rows))
        elif step == "when_text":
            await self.tell(user, N_("Type the day and time, for example: Saturday 9:00."))
        elif step == "neighbour":
            await self.tell(user, N_("What is your neighbour's name?"))
        elif step == "contact" and draft.get("on_behalf"):
            await self.tell(user, N_("Type your neighbour's phone number (the volunteer will call it)."))
        elif step == "contact":
            await self.tell(user, N_("How can the volunteer reach you? Share your phone number with the button, "
                                     "or type a number."), markup=self.share_phone_keyboard(user))
        elif step == "summary":
            await self.request_summary(user, draft)
        elif step == "edit":
            fields = [("description", _("Description")), ("community", _("Community")),
                      ("building", _("Building")), ("detail", _("Address details")),
                      ("when", _("Time")), ("contact", _("Phone")), ("category", _("Kind of help"))]
            if draft.get("on_behalf"):
                fields = [f for f in fields if f[0] not in ("community", "building")]
                fields.insert(-2, ("neighbour", _("Neighbour's name")))
            rows = [[button(label, cb.EDIT_FIELD, name)] for name, label in fields]
            await self.tell(user, N_("What would you like to change?"), markup=inline(rows))

    async def request_summary(self, user: User, draft: dict[str, Any]) -> None:
        _ = self.tr(user)
        description = draft.get("description") or _("(voice note)")
        rows = [[button(_("✅ Confirm"), cb.CONFIRM), button(_("✏️ Edit"), cb.EDIT)],
                [button(_("Cancel"), cb.ABORT)]]
        await self.tell(
            user,
            N_("Please check your request:\n<b>{category}</b>\n📝 {description}\n📍 {community}, {building}, {detail}\n"
               "🕒 {when}\n📞 {name} {phone}"),
            category=self.category_label(user, draft.get("category", "other")), description=description,
            community=draft.get("community", ""), building=draft.get("building", ""),
            detail=draft.get("detail", ""), when=draft.get("when", ""), name=draft.get("contact_name", ""),
            phone=draft.get("contact_phone", ""), markup=inline(rows),
        )

    async def request_abandoned(self, user: User) -> None:
        await self.tell(user, N_("Request cancelled. Nothing was sent."), markup=self.menu_keyboard(user))

    async def order_received(self, user: User, order: Order) -> None:
        await self.tell(user, N_("Thank you! Your request number is <b>#{number}</b>. "
                                 "We will message you at every step."),
                        number=order.id, markup=self.menu_keyboard(user))

    async def my_orders(self, user: User, orders: Sequence[Order]) -> None:
        _ = self.tr(user)
        if not orders:
            await self.tell(user, N_("You have no requests yet."))
            return
        lines = [_("#{number} {category} — {status}", number=o.id, category=self.category_label(user, o.category),
                   status=_(STATUS_NAMES[o.status])) for o in orders]
        rows = [[button(_("Cancel #{number}", number=o.id), cb.CANCEL_ORDER, o.id)]
                for o in orders if o.status in OPEN]  # cancellable
        await self.out.send(user.telegram_id, _("Your requests:") + "\n" + "\n".join(lines), recipient=user,
                            markup=inline(rows) if rows else None)

    async def status(self, resident: User, order: Order, message: str, **params: Any) -> None:
        """A step of the resident's request (``message``, a msgid, gets the request's number)."""
        await self.out.send(resident.telegram_id, self.tr(resident)(message, number=order.id, **params),
                            recipient=resident)

    async def ask_rating(self, resident: User, order: Order, volunteer_name: str, *, reminder: bool = False) -> None:
        _ = self.tr(resident)
        if reminder:
            await self.tell(resident, N_("Reminder: please rate request #{number} — your answer helps the centre."),
                            number=order.id)
        words = [button(_(SATISFACTION_NAMES[n]), cb.RATE, order.id, n) for n in satisfaction.CHOICES]
        rows = in_rows(words, 2)
        if order.on_behalf:  # the building leader asks the neighbour and records their verdict
            await self.tell(resident, N_("{volunteer} has finished request #{number} for {neighbour}. Please ask "
                                         "them how it went and record their rating:"),
                            volunteer=volunteer_name, number=order.id, neighbour=order.contact_name,
                            markup=inline(rows))
            return
        await self.tell(resident, N_("{volunteer} has finished request #{number}. How did it go?"),
                        volunteer=volunteer_name, number=order.id, markup=inline(rows))

    async def ask_comment(self, resident: User, order: Order) -> None:
        _ = self.tr(resident)
        await self.tell(resident, N_("Thank you! Would you like to add a comment? Type it, or tap Skip."),
                        markup=inline([[button(_("Skip"), cb.SKIP_COMMENT, order.id)]]))
