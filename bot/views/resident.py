"""What a resident is told: the menu, the request dialog's questions and summary, their requests,
each step of a request, and the rating questions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain import satisfaction
from bot.domain.lifecycle import OPEN
from bot.domain.request_steps import confirm_choices, is_emergency, steps_for
from bot.domain.roles import roles_in_key
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views import menu
from bot.views.common import (
    SATISFACTION_NAMES,
    SHARE_PHONE,
    STATUS_NAMES,
    View,
    button,
    in_rows,
    inline,
    when_label,
)
from bot.views.help import help_text
from bot.views.port import Markup
from storage.models import Order, User

# The request dialog's typed questions, one plain question each with an example.
QUESTIONS = {
    "community": N_("Which community do you live in? (e.g. Sunshine Community)"),
    "building": N_("Which building and unit do you live in? (e.g. Building 3, Unit 2)"),
    "detail": N_("What is your door number? (e.g. Room 402)"),
    "where": N_("Where are you? (e.g. Sunshine Community, Building 3, Room 402)"),
    "when_text": N_("When should the volunteer come? (e.g. Saturday 9:00)"),
    "neighbour": N_("What is your neighbour's name?"),
}
# The edit menu: the fields a draft may have, in the order they were asked.
EDIT_LABELS = (("description", N_("Description")), ("community", N_("Your community")),
               ("building", N_("Building and unit")), ("detail", N_("Door number")), ("where", N_("Where")),
               ("neighbour", N_("Neighbour's name")), ("contact", N_("Phone")), ("category", N_("Kind of help")))

OFFER_PREVIEW = 60  # characters of the typed text quoted back in the offer


class ResidentView(View):
    def menu_keyboard(self, user: User) -> Markup:
        """The reply keyboard of the roles the person's menu was last set for (``menu_roles``)."""
        return menu.keyboard(roles_in_key(user.menu_roles), user.on_duty, self.tr(user))

    async def menu_changed(self, user: User) -> None:
        await self.tell(user, N_("Your buttons below have been updated. Tap {help} to see what each one does."),
                        help=self.tr(user)(menu.LABELS[menu.HELP]), markup=self.menu_keyboard(user))

    async def help(self, user: User) -> None:
        """What this person can do, by role, naming the buttons that do it."""
        text = help_text(roles_in_key(user.menu_roles), user.on_duty, self.tr(user))
        await self.out.send(user.telegram_id, text, recipient=user, markup=self.menu_keyboard(user))

    async def more(self, user: User, keys: Sequence[str]) -> None:
        await self.tell(user, N_("More actions:"), markup=menu.more_menu(keys, self.tr(user)))

    async def offer_request(self, user: User, text: str | None) -> None:
        """Something typed (or a voice note) outside any dialog: offer to send it as a request."""
        _ = self.tr(user)
        markup = inline([[button(_("Yes, ask for help"), cb.OFFER_YES), button(_("No, thanks"), cb.OFFER_NO)]])
        if text is None:
            await self.tell(user, N_("I got your voice note. Shall I send it to the volunteers as a request for "
                                     "help?"), markup=markup)
            return
        quoted = text if len(text) <= OFFER_PREVIEW else text[:OFFER_PREVIEW] + "…"
        await self.tell(user, N_("You wrote: “{text}”\nShall I send this to the volunteers as a request for help?"),
                        text=quoted, markup=markup)

    async def quiet_choices(self, user: User, current: str | None) -> None:
        _ = self.tr(user)
        markup = inline([[button("22:00–07:00", cb.QUIET_SET, "22-7"), button("21:00–08:00", cb.QUIET_SET, "21-8")],
                         [button(_("No quiet hours"), cb.QUIET_SET, "off")]])
        if current is None:
            await self.tell(user, N_("You have no quiet hours: reminders may come at any time. Choose hours of rest "
                                     "below (emergencies still come)."), markup=markup)
        else:
            await self.tell(user, N_("Your quiet hours: {hours}. Change them below (emergencies still come)."),
                            hours=current, markup=markup)

    async def skill_choice(self, user: User) -> None:
        buttons = [button(self.category_label(user, c), cb.FIND_SKILL, c) for c in self.settings.categories]
        await self.tell(user, N_("Find volunteers with which skill?"), markup=inline(in_rows(buttons, 2)))

    async def offer_declined(self, user: User) -> None:
        await self.tell(user, N_("All right. Whenever you need help, tap {request}."),
                        request=self.tr(user)(menu.LABELS[menu.REQUEST]), markup=self.menu_keyboard(user))

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
        """The request dialog's question at ``step``; its buttons carry the draft's number."""
        _, number = self.tr(user), draft["draft"]
        if step == "category":
            buttons = [button(self.category_label(user, c), cb.CATEGORY, number, c) for c in self.settings.categories]
            rows = in_rows(buttons, 2)
            rows.append([button(_("Cancel"), cb.ABORT, number)])
            await self.tell(user, N_("What kind of help do you need?"), markup=inline(rows))
        elif step == "description" and is_emergency(draft):
            await self.tell(user, N_("What happened? Type it, or hold 🎤 and speak."), markup={"remove_keyboard": True})
        elif step == "description":
            await self.tell(user, N_("Please tell us what you need help with. You can type it, or hold 🎤 and speak; "
                                     "a photo helps too."), markup={"remove_keyboard": True})
        elif step == "where" and draft.get("building"):  # a building link or the last request told the building
            await self.tell(user, QUESTIONS["detail"], markup={"remove_keyboard": True})
        elif step in QUESTIONS:
            await self.tell(user, QUESTIONS[step], markup={"remove_keyboard": True})
        elif step == "contact" and draft.get("on_behalf"):
            await self.tell(user, N_("Type your neighbour's phone number (the volunteer will call it)."))
        elif step == "contact":
            await self.tell(user, N_("Please leave a phone number so the volunteer can reach you: tap «{button}» "
                                     "below, or type the number."),
                            button=_(SHARE_PHONE), markup=self.share_phone_keyboard(user))
        elif step == "summary":
            await self.request_summary(user, draft)
        elif step == "edit":
            await self.tell(user, N_("What would you like to change?"), markup=inline(
                [[button(_(label), cb.EDIT_FIELD, number, name)] for name, label in EDIT_LABELS
                 if name in steps_for(draft)]))

    async def emergency_first(self, user: User) -> None:
        """Said first when an emergency is chosen, before any question."""
        await self.tell(user, N_("🚨 If a life is at risk, call 120 (ambulance) or 110 (police) first!"))

    async def tap_a_button(self, user: User) -> None:
        await self.tell(user, N_("Please tap one of the buttons below."))

    async def request_summary(self, user: User, draft: dict[str, Any]) -> None:
        """The draft to check, with the confirm buttons that also say when (or "now" for an emergency)."""
        _, number = self.tr(user), draft["draft"]
        lines = [_("Please check your request:"), "<b>" + self.category_label(user, draft.get("category", "other"))
                 + "</b>"]
        if draft.get("description"):
            lines.append(_("📝 {description}", description=draft["description"]))
        if draft.get("voice_file_id"):
            lines.append(_("🎤 voice note"))
        if draft.get("photo_file_id"):
            lines.append(_("📷 1 photo"))
        parts = (draft.get("community", ""), draft.get("building", ""), draft.get("detail", ""))
        lines.append(_("📍 {address}", address=" ".join(part for part in parts if part)))
        lines.append(_("📞 {name} (ending {tail})", name=draft.get("contact_name", ""),
                       tail=draft.get("contact_phone", "")[-4:]))
        if draft.get("when") and not is_emergency(draft):
            lines.append(_("🕒 {when}", when=when_label(_, draft["when"])))
        choices = confirm_choices(draft)
        labels = {"today": _("✅ Today"), "tomorrow": _("✅ Tomorrow"), "set": _("✅ Confirm"), "now": _("🚨 Send now")}
        rows = [[button(labels[c], cb.CONFIRM, number, c) for c in choices]]
        if "today" in choices:
            lines.append(_("When should the volunteer come?"))
            rows.append([button(_("🕒 Another time"), cb.WHEN, number)])
        if draft.get("remembered") and draft.get("detail"):
            rows.append([button(_("📍 Another address"), cb.OTHER_ADDRESS, number)])
        rows.append([button(_("✏️ Edit"), cb.EDIT, number), button(_("Cancel"), cb.ABORT, number)])
        await self.out.send(user.telegram_id, "\n".join(lines), recipient=user, markup=inline(rows))

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
