"""What people are told: every message, card and keyboard, rendered in the reader's language and
queued in the outbox of the current unit of work (so it commits with the change that caused it).

Texts are sent with ``parse_mode=HTML``; every value a person typed is escaped by :mod:`bot.i18n`.
Group chats only ever see an order's category, community, time, short description and urgency —
never a name, phone number or address. Every free-text field shown in a group goes through
:func:`bot.domain.redact.redact`, and every text sent to a team's (or any other) group through
:func:`~bot.domain.redact.mask_phones` once more (names and anything else people typed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.attachments import Attachment, to_payload
from bot.domain.lifecycle import OPEN, OrderStatus
from bot.domain.redact import mask_phones, redact
from bot.i18n import N_, I18n, Translate
from bot.services.context import ServiceConfig
from bot.services.registration import (
    AVAILABILITY,
    DONE_LABEL,
    HOBBIES,
    KINDS,
    LIST_SEPARATOR,
    MEMBERSHIP_STATUS,
    MULTI_SELECT,
    OCCUPATIONS,
    PROFILE_FIELDS,
)
from bot.views import callbacks as cb
from storage.models import Building, Order, Team, User, Volunteer
from storage.uow import UnitOfWork

STATUS_NAMES: dict[str, str] = {
    OrderStatus.NEW: N_("waiting for dispatch"),
    OrderStatus.DISPATCHED: N_("waiting for a volunteer"),
    OrderStatus.ACCEPTED: N_("volunteer assigned"),
    OrderStatus.ON_WAY: N_("volunteer on the way"),
    OrderStatus.DONE: N_("done, waiting for your rating"),
    OrderStatus.CLOSED: N_("closed"),
    OrderStatus.CANCELLED: N_("cancelled"),
    OrderStatus.REJECTED: N_("rejected"),
}
CATEGORY_NAMES = {
    "delivery": N_("Delivery"), "housekeeping": N_("Housekeeping"), "consulting": N_("Consulting"),
    "repair": N_("Repair"), "training": N_("Training"), "mediation": N_("Mediation"),
    "emergency": N_("Emergency"), "other": N_("Other"),
}
REJECT_REASONS = {"area": N_("Outside our service area"), "duplicate": N_("Duplicate request"),
                  "scope": N_("Not a volunteer service")}
MENU_NEW_REQUEST = N_("🆘 New request")
MENU_MY_ORDERS = N_("📋 My requests")
MENU_LANGUAGE = N_("🌐 Language")
SHARE_PHONE = N_("📱 Share my phone number")
# Said when an update of a person's was parked (a fault of ours); short enough for a tap's alert.
COULD_NOT_HANDLE = N_("Sorry, something went wrong on our side. What you sent is kept for "
                      "our team to look into; please try again a little later.")
BUILDING_USAGE = N_("Usage: /building add CODE COMMUNITY NAME, /building leader CODE USER_ID, "
                    "/building unleader CODE USER_ID, /building link CODE, /building")
TEAM_USAGE = N_("Usage: /team add CODE NAME CATEGORY…, /team rename CODE NAME, /team categories CODE CATEGORY…, "
                "/team sub CODE SKILL NAME, /team member CODE USER_ID, /team leader CODE USER_ID, "
                "/team unleader CODE USER_ID, /team archive CODE, /team restore CODE, /team link CODE, /team CODE")
DESCRIPTION_LIMIT = 120  # characters of a description on a card
FIELD_LIMIT = 64  # characters of a community or time on a card
DIGEST_FIELD_LIMIT = 30  # characters of a community or time on a digest line

Keyboard = list[list[dict[str, Any]]]


@dataclass(frozen=True)
class Listing:
    """Where a list goes: a new message in ``chat_id`` showing ``page`` (from 0), or, with ``row``
    (the outbox id of the list's message), that message edited in place to show ``page``."""

    chat_id: int
    page: int = 0
    row: int | None = None


def is_group(chat_id: int) -> bool:
    """Group and supergroup ids are negative; people's private chats have their (positive) user id."""
    return chat_id < 0


def button(text: str, action: str, *args: object) -> dict[str, Any]:
    return {"text": text, "callback_data": cb.pack(action, *args)}


def inline(rows: Keyboard) -> dict[str, Any]:
    return {"inline_keyboard": rows}


class Notifier:
    """Queues messages for one unit of work."""

    def __init__(self, uow: UnitOfWork, i18n: I18n, config: ServiceConfig) -> None:
        self.uow = uow
        self.i18n = i18n
        self.config = config

    # -- primitives -----------------------------------------------------------------------------
    def safe_for(self, chat_id: int, text: str) -> str:
        """``text`` with phone numbers masked if it goes to a group where volunteers read (any group
        but the coordinators' chat, which reads volunteers' registry numbers in their applications;
        the order fields it is shown are redacted one by one)."""
        return mask_phones(text) if is_group(chat_id) and chat_id != self.config.coordinators_chat_id else text

    def tr(self, user: User | None) -> Translate:
        return self.i18n.translator(user.language if user else self.config.default_language)

    def group_tr(self) -> Translate:
        return self.i18n.translator(self.config.default_language)

    async def send(self, chat_id: int, text: str, *, recipient: User | None = None,
                   markup: dict[str, Any] | None = None, protect: bool = False) -> int:
        """Queue a message; returns the outbox row id (what later edits refer to)."""
        payload: dict[str, Any] = {"text": self.safe_for(chat_id, text), "parse_mode": "HTML"}
        if markup is not None:
            payload["reply_markup"] = markup
        if protect:
            payload["protect_content"] = True
        row = await self.uow.outbox.send(chat_id, payload, recipient_user_id=recipient.id if recipient else None)
        return row.id

    async def tell(self, user: User, message: str, *, markup: dict[str, Any] | None = None,
                   protect: bool = False, **params: object) -> int:
        """Queue ``message`` (a msgid) to a person's private chat, in their language."""
        return await self.send(user.telegram_id, self.tr(user)(message, **params), recipient=user,
                               markup=markup, protect=protect)

    async def _centre(self) -> list[tuple[int, User | None]]:
        """Where the centre reads: its group if configured, else every coordinator and admin privately."""
        if self.config.coordinators_chat_id is not None:
            return [(self.config.coordinators_chat_id, None)]
        people: dict[int, User | None] = {u.telegram_id: u for u in await self.uow.users.coordinators()}
        for admin_id in sorted(self.config.admins - people.keys()):
            people[admin_id] = await self.uow.users.by_telegram_id(admin_id)
        return list(people.items())

    async def to_coordinators(self, message: str, *, markup: dict[str, Any] | None = None, **params: object) -> None:
        """Tell the centre ``message`` (a msgid), in each reader's language."""
        for chat_id, reader in await self._centre():
            text = (self.tr(reader) if reader else self.group_tr())(message, **params)
            await self.send(chat_id, text, recipient=reader, markup=markup)

    async def could_not_handle(self, chat_id: int, user: User | None) -> None:
        """A person's update was parked: they hear so, rather than nothing."""
        await self.send(chat_id, self.tr(user)(COULD_NOT_HANDLE), recipient=user)

    async def refuse(self, chat_id: int, user: User | None, message: str, **params: object) -> None:
        await self.send(chat_id, "⚠️ " + self.tr(user)(message, **params), recipient=user)

    # -- resident -------------------------------------------------------------------------------
    def menu_keyboard(self, user: User) -> dict[str, Any]:
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

    def share_phone_keyboard(self, user: User) -> dict[str, Any]:
        """A one-time reply keyboard whose button shares the person's own phone number."""
        return {"keyboard": [[{"text": self.tr(user)(SHARE_PHONE), "request_contact": True}]],
                "resize_keyboard": True, "one_time_keyboard": True}

    def category_label(self, user: User | None, category: str) -> str:
        return self.tr(user)(CATEGORY_NAMES.get(category, category))

    async def ask_request_step(self, user: User, step: str, draft: dict[str, Any]) -> None:
        """The next question of the new-request dialog."""
        _ = self.tr(user)
        if step == "category":
            buttons = [button(self.category_label(user, c), cb.CATEGORY, c) for c in self.config.categories]
            rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
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
        cancellable = [o for o in orders if o.status in OPEN]
        rows = [[button(_("Cancel #{number}", number=o.id), cb.CANCEL_ORDER, o.id)] for o in cancellable]
        await self.send(user.telegram_id, _("Your requests:") + "\n" + "\n".join(lines), recipient=user,
                        markup=inline(rows) if rows else None)

    async def resident_status(self, resident: User, order: Order, message: str, **params: Any) -> None:
        await self.tell(resident, message, number=order.id, **params)

    async def ask_rating(self, resident: User, order: Order, volunteer_name: str, *, reminder: bool = False) -> None:
        _ = self.tr(resident)
        if reminder:
            await self.tell(resident, N_("Reminder: please rate request #{number} — your answer helps the centre."),
                            number=order.id)
        stars = [button("★" * n, cb.RATE, order.id, n) for n in range(1, 6)]
        rows = [stars[:3], stars[3:], [button(_("Not solved"), cb.RATE, order.id, 0)]]
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

    # -- coordinators ---------------------------------------------------------------------------
    def dispatch_keyboard(self, order: Order, teams: Sequence[Team]) -> dict[str, Any]:
        _ = self.group_tr()
        rows = [[button(_("➡️ {team}", team=t.name), cb.DISPATCH, order.id, t.id)] for t in teams]
        rows.append([button(_("Reject"), cb.REJECT, order.id)])
        return inline(rows)

    async def new_order_to_coordinators(self, order: Order, teams: Sequence[Team], *, reopened: bool = False,
                                        note: str | None = None) -> list[int]:
        """The order's card to the centre; returns the outbox rows (one per centre chat)."""
        _ = self.group_tr()
        headline = _("♻️ Request #{number} reopened", number=order.id) if reopened else \
            _("🆕 New request #{number}", number=order.id)
        body = _("{category}{urgent} · {community} · {when}\n📝 {description}",
                 category=self.category_label(None, order.category),
                 urgent=" · " + _("URGENT") if order.urgent else "", **self.shown_fields(order))
        if note:
            body += "\n" + note
        if not teams:
            body += "\n" + _("No team takes this kind of request yet: create one with /team add.")
        return await self.to_coordinators_text(headline + "\n" + body, markup=self.dispatch_keyboard(order, teams))

    async def to_coordinators_text(self, text: str, *, markup: dict[str, Any] | None = None) -> list[int]:
        """Send an already rendered text to the centre; returns the outbox rows."""
        return [await self.send(chat_id, text, recipient=reader, markup=markup)
                for chat_id, reader in await self._centre()]

    async def centre_cards_with_team(self, cards: Sequence[int], order: Order, team: Team,
                                     other_teams: Sequence[Team], *, taken_by: str | None = None) -> None:
        """The centre's cards of ``order`` while ``team`` has it: the card says so and keeps only what
        is still possible — while nobody has taken it, moving it to another team or Reject; once
        taken (by ``taken_by``), nothing."""
        _ = self.group_tr()  # the language the card was written in
        line = _("➡️ Sent to team {team}.", team=team.name)
        if taken_by is not None:
            line += "\n" + _("Status: ✅ taken by {volunteer}", volunteer=taken_by)
        markup = inline([]) if taken_by is not None else self.dispatch_keyboard(order, other_teams)
        for card in (await self.uow.outbox.by_ids(cards)).values():
            text = str(card.payload.get("text", "")) + "\n" + line
            await self.uow.outbox.edit(card.id, {"text": text, "parse_mode": "HTML", "reply_markup": markup})

    def reject_reason(self, reader: User, reason: str) -> str:
        """A rejection's reason in the reader's language: a reason button's label, or the typed text."""
        return self.tr(reader)(REJECT_REASONS.get(reason, reason))

    async def ask_reject_reason(self, coordinator: User, order: Order) -> None:
        _ = self.tr(coordinator)
        rows = [[button(_(label), cb.REJECT_REASON, order.id, code)] for code, label in REJECT_REASONS.items()]
        await self.tell(coordinator, N_("Why is request #{number} rejected? Tap a reason or type one."),
                        number=order.id, markup=inline(rows))

    # -- team group card ------------------------------------------------------------------------
    def card_text(self, order: Order, status_line: str) -> str:
        """The card in a team's group; the status line may hold a volunteer's name (masked too)."""
        _ = self.group_tr()
        return mask_phones(_("{urgent}<b>#{number} {category}</b>\n📍 {community}\n🕒 {when}\n📝 {description}",
                             urgent="🚨 " + _("URGENT") + " · " if order.urgent else "",
                             number=order.id, category=self.category_label(None, order.category),
                             **self.shown_fields(order)) + "\n" + status_line)

    def shown_fields(self, order: Order) -> dict[str, str]:
        """What a card shows of the order's free text (community, time, description), redacted."""
        _ = self.group_tr()
        return {"community": redact(order.community, FIELD_LIMIT), "when": redact(order.when_text, FIELD_LIMIT),
                "description": redact(order.description, DESCRIPTION_LIMIT) if order.description
                else _("(voice note)")}

    async def post_card(self, order: Order, team: Team, *, offered: bool = False) -> int:
        """Post an order card with an Accept button in the team's group (``offered``: a card the
        escalation ladder offers to another team); returns the outbox row id."""
        _ = self.group_tr()
        assert team.chat_id is not None
        status = _("Status: offered to your team too · waiting for a volunteer") if offered else \
            _("Status: waiting for a volunteer")
        text = self.card_text(order, status)
        return await self.send(team.chat_id, text, markup=inline([[button(_("✋ Accept"), cb.ACCEPT, order.id)]]))

    async def edit_card(self, order: Order, status_line: str, *, accept_button: bool = False) -> None:
        """Edit the order's cards in place — its team's, and any offered to other teams (each edit
        is queued after its card)."""
        _ = self.group_tr()
        payload: dict[str, Any] = {"text": self.card_text(order, status_line), "parse_mode": "HTML"}
        payload["reply_markup"] = inline([[button(_("✋ Accept"), cb.ACCEPT, order.id)]] if accept_button else [])
        cards = [order.card_outbox_id, *(order.offer_cards or {}).values()]
        for card in cards:
            if card is not None:
                await self.uow.outbox.edit(int(card), payload)

    async def bump_card(self, order: Order, team: Team) -> None:
        """Escalation step 1: the card again at the bottom of the team's group, as a reply to it."""
        _ = self.group_tr()
        assert team.chat_id is not None
        await self.send(team.chat_id, _("⏫ Request #{number} is still waiting for a volunteer. Who can take it?",
                                        number=order.id),
                        markup=inline([[button(_("✋ Accept"), cb.ACCEPT, order.id)]]))

    # -- volunteer ------------------------------------------------------------------------------
    def volunteer_keyboard(self, volunteer: User, order: Order) -> dict[str, Any]:
        _ = self.tr(volunteer)
        rows = [[button(_("🚶 On my way"), cb.ON_WAY, order.id), button(_("✔️ Done"), cb.DONE, order.id)],
                [button(_("↩️ Release"), cb.RELEASE, order.id)]]
        if order.status == OrderStatus.ON_WAY:
            rows[0] = [button(_("✔️ Done"), cb.DONE, order.id)]
        return inline(rows)

    async def volunteer_details(self, volunteer: User, order: Order) -> None:
        """The resident's contact and address, privately and protected from forwarding."""
        _ = self.tr(volunteer)
        await self.tell(
            volunteer,
            N_("You took request <b>#{number}</b> ({category}).\n👤 {name}\n📞 {phone}\n📍 {community}, {building}, "
               "{detail}\n🕒 {when}\n📝 {description}\nPlease keep these details private."),
            number=order.id, category=self.category_label(volunteer, order.category), name=order.contact_name,
            phone=order.contact_phone, community=order.community, building=order.building,
            detail=order.address_detail, when=order.when_text,
            description=order.description or _("(voice note below)"),
            markup=self.volunteer_keyboard(volunteer, order), protect=True,
        )
        if order.voice_file_id:
            await self.uow.outbox.send(volunteer.telegram_id, {"voice": order.voice_file_id, "protect_content": True},
                                       recipient_user_id=volunteer.id, method="sendVoice")

    async def lease_question(self, volunteer: User, order: Order, minutes: int) -> None:
        """The claim lease ran out: is the volunteer still on it?"""
        _ = self.tr(volunteer)
        rows = [[button(_("🚶 On my way"), cb.ON_WAY, order.id), button(_("⏳ Still mine"), cb.KEEP, order.id)],
                [button(_("↩️ Release"), cb.RELEASE, order.id)]]
        await self.tell(volunteer, N_("You took request #{number} a while ago. Are you still on it? Without an answer "
                                      "in {minutes} minutes it goes back to the team's group."),
                        number=order.id, minutes=minutes, markup=inline(rows))

    async def ask_hours(self, volunteer: User, order: Order, *, typed: bool = True) -> None:
        """``typed``: a typed number is read too (not while another dialog takes what they type)."""
        rows = [[button(h, cb.HOURS, order.id, h) for h in cb.HOUR_CHOICES]]
        question = N_("Thank you! How many hours did request #{number} take? Tap or type a number.") if typed else \
            N_("Thank you! How many hours did request #{number} take? Tap a number.")
        await self.tell(volunteer, question, number=order.id, markup=inline(rows))

    # -- lists: sent privately (see bot.services.privately), a page at a time ---------------------------
    PAGE_LIMIT = 3900  # characters of a list page, page line and footer included (Telegram: 4096)

    def _pages(self, title: str, lines: Sequence[str], footer: str) -> list[list[str]]:
        """``lines`` cut into pages that fit one message under ``title`` and above ``footer``; a line
        too long for a page by itself (a team's members) is cut between names."""
        budget = self.PAGE_LIMIT - len(title) - len(footer) - 60  # the page line and newlines
        pieces: list[str] = []
        for line in lines:
            while len(line) > budget and "<" not in line and ", " in line[:budget]:
                cut = line.rindex(", ", 0, budget)
                pieces.append(line[:cut + 1])
                line = line[cut + 2:]
            pieces.append(line)
        pages: list[list[str]] = [[]]
        size = 0
        for piece in pieces:
            if pages[-1] and size + len(piece) + 1 > budget:
                pages.append([])
                size = 0
            pages[-1].append(piece)
            size += len(piece) + 1
        return pages

    def _page_buttons(self, row: int, page: int, count: int) -> dict[str, Any]:
        buttons = ([button("◀", cb.PAGE, row, page - 1)] if page > 0 else []) + \
            ([button("▶", cb.PAGE, row, page + 1)] if page < count - 1 else [])
        return inline([buttons] if buttons else [])

    async def send_list(self, where: Listing, reader: User, title: str, lines: Sequence[str], *,
                        query: dict[str, Any], footer: str = "", protect: bool = False) -> None:
        """A list as one message a page long, with ◀ ▶ buttons when it has more pages. The message's
        outbox row keeps ``query`` (what the list shows, never personal data) so a page button
        (``pg:<row>:<page>``) can rebuild the list, re-checking who asks, and edit it in place."""
        _ = self.tr(reader)
        pages = self._pages(title, lines, footer)
        page = min(max(where.page, 0), len(pages) - 1)
        parts = [title, *pages[page]]
        if len(pages) > 1:
            parts.append(_("Page {page} of {pages}", page=page + 1, pages=len(pages)))
        if footer:
            parts.append(footer)
        text = "\n".join(parts)
        text = self.safe_for(where.chat_id, text)
        if where.row is not None:
            await self.uow.outbox.edit(where.row, {"text": text, "parse_mode": "HTML",
                                                   "reply_markup": self._page_buttons(where.row, page, len(pages))})
            return
        payload: dict[str, Any] = {"text": text, "parse_mode": "HTML", "list": query}
        if protect:
            payload["protect_content"] = True
        row = await self.uow.outbox.send(where.chat_id, payload,
                                         recipient_user_id=reader.id if where.chat_id == reader.telegram_id else None)
        if len(pages) > 1:
            row.payload = {**row.payload, "reply_markup": self._page_buttons(row.id, page, len(pages))}

    async def list_sent_privately(self, chat_id: int, reader: User) -> None:
        """In a group where someone asked for a list: where it went (nothing of it is shown here)."""
        _ = self.group_tr()
        await self.send(chat_id, _("{name}, I sent the list to our private chat.", name=reader.first_name))

    async def list_needs_private_chat(self, chat_id: int, reader: User) -> None:
        _ = self.group_tr()
        await self.send(chat_id, _("{name}, lists are only sent in a private chat. Please open a chat with me, tap "
                                   "Start, then send the command there.", name=reader.first_name))

    async def open_orders(self, where: Listing, reader: User, orders: Sequence[Order], teams: dict[int, str]) -> None:
        """``/orders``: open requests with the community (redacted: the centre's chat may be a group)."""
        _ = self.tr(reader)
        if not orders:
            await self.send(where.chat_id, _("No open requests."))
            return
        lines = [_("#{number} {category} · {community} · {status} {team}", number=o.id,
                   category=self.category_label(reader, o.category), community=redact(o.community, FIELD_LIMIT),
                   status=_(STATUS_NAMES[o.status]), team=teams.get(o.team_id or 0, "")) for o in orders]
        await self.send_list(where, reader, _("Open requests:"), lines, query={"kind": "orders"})

    # -- teams, buildings, businesses ---------------------------------------------------------------
    async def building_list(self, where: Listing, reader: User, buildings: Sequence[Building]) -> None:
        _ = self.tr(reader)
        if not buildings:
            await self.tell(reader, N_("No buildings yet: add one with /building add CODE COMMUNITY NAME."))
            return
        lines = [_("{community} · <b>{name}</b> ({code}) · {leader}", community=b.community, name=b.name, code=b.code,
                   leader=_("leader appointed") if b.leader_id else _("no leader yet")) for b in buildings]
        await self.send_list(where, reader, _("Buildings:"), lines, query={"kind": "buildings"},
                             footer=_(BUILDING_USAGE))

    async def team_list(self, where: Listing, reader: User, teams: Sequence[Team]) -> None:
        _ = self.tr(reader)
        if not teams:
            await self.send(where.chat_id, _("No teams yet: create one with /team add."), recipient=reader)
            return
        lines = [_("<b>{team}</b> ({code}) · {categories} · {state}", team=t.name, code=t.code,
                   categories=", ".join(self.category_label(reader, c) for c in t.categories),
                   state=_("archived") if not t.active else _("group linked") if t.chat_id else _("no group yet"))
                 for t in teams]
        await self.send_list(where, reader, _("Teams:"), lines, query={"kind": "teams"}, footer=_(TEAM_USAGE))

    async def team_card(self, where: Listing, reader: User, team: Team, members: Sequence[tuple[str, bool]],
                        subteams: Sequence[tuple[str, str, Sequence[str]]], link: str | None) -> None:
        """A team at a glance: names only (no phones)."""
        _ = self.tr(reader)
        title = _("<b>{team}</b> ({code}) · {categories}", team=team.name, code=team.code,
                  categories=", ".join(self.category_label(reader, c) for c in team.categories))
        leaders = [name for name, leader in members if leader]
        lines = [_("Leaders: {names}", names=", ".join(leaders) or "—"),
                 _("Members ({count}): {names}", count=len(members), names=", ".join(n for n, _l in members) or "—")]
        for name, skill, names in subteams:
            lines.append(_("Sub-team {name} ({skill}, {count}): {names}", name=name,
                           skill=self.category_label(reader, skill), count=len(names), names=", ".join(names) or "—"))
        if link:
            lines.append(_("Join link: {link}", link=link))
        await self.send_list(where, reader, title, lines, query={"kind": "team", "code": team.code})

    async def send_file(self, chat_id: int, reader: User, caption: str, attachment: Attachment, *,
                        protect: bool = False, **params: object) -> None:
        """A photo or document made when the message goes out (see :mod:`bot.adapters.attachments`), with a
        caption (a msgid) in ``reader``'s language."""
        method = {"photo": "sendPhoto", "document": "sendDocument"}[attachment.field]
        text = self.tr(reader)(caption, **params)
        payload: dict[str, Any] = {"caption": self.safe_for(chat_id, text), "parse_mode": "HTML",
                                   "attachment": to_payload(attachment)}
        if protect:
            payload["protect_content"] = True
        recipient = reader.id if chat_id == reader.telegram_id else None
        await self.uow.outbox.send(chat_id, payload, recipient_user_id=recipient, method=method)

    async def businesses(self, where: Listing, reader: User, rows: Sequence[tuple[Volunteer, Team, int]]) -> None:
        _ = self.tr(reader)
        if not rows:
            await self.tell(reader, N_("No business has joined yet. A business registers with /join and chooses "
                                       "the kind Business."))
            return
        lines = [_("{business} · {contact} · {team} · {categories} · completed: {count}", business=v.organisation,
                   contact=v.name, team=t.name, count=count,
                   categories=", ".join(self.category_label(reader, c) for c in v.skills) or "—")
                 for v, t, count in rows]
        await self.send_list(where, reader, _("Businesses of the service alliance:"), lines,
                             query={"kind": "businesses"})

    # -- people ---------------------------------------------------------------------------------
    async def talent(self, where: Listing, coordinator: User, skill: str, community: str | None,
                     found: Sequence[tuple[Volunteer, Team, User | None]]) -> None:
        """The talent reserve, privately to a coordinator (it holds phone numbers)."""
        _ = self.tr(coordinator)
        if not found:
            await self.tell(coordinator, N_("No approved volunteer has the skill {skill}."),
                            skill=self.category_label(coordinator, skill))
            return
        lines = [_("{name} · {team} · {community} · {phone} · {duty}", name=v.name, team=t.name,
                   community=v.community or "—", phone=v.phone,
                   duty="—" if u is None else _("on duty") if u.on_duty else _("off duty"))
                 for v, t, u in found]
        await self.send_list(where, coordinator,
                             _("Volunteers for {skill}:", skill=self.category_label(coordinator, skill)), lines,
                             query={"kind": "find", "skill": skill, "community": community}, protect=True)

    # -- registration -------------------------------------------------------------------------------
    def _join_prompt(self, user: User, step: str, draft: dict[str, Any], teams: Sequence[Team],
                     editing: bool) -> tuple[str, dict[str, Any] | None]:
        """A question of the /join dialog (or of a profile edit) and its keyboard."""
        _ = self.tr(user)
        chosen = set(draft.get(step) or []) if step in MULTI_SELECT else set()

        def choices(options: Sequence[tuple[str, str]], per_row: int, *, done: bool) -> dict[str, Any]:
            if step in MULTI_SELECT:
                buttons = [button(("✅ " if code in chosen else "") + label, cb.JOIN_PICK, step, code)
                           for code, label in options]
            else:
                buttons = [button(label, cb.JOIN_PICK, step, code) for code, label in options]
            rows = [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
            if done:
                rows.append([button(_(DONE_LABEL), cb.JOIN_DONE, step)])
            return inline(rows)

        if step == "name":
            return (_("Type your full name:") if editing else _("Welcome! What is your full name?"),
                    {"remove_keyboard": True})
        if step == "phone":
            return _("Please share your phone number with the button below."), self.share_phone_keyboard(user)
        if step == "community" and self.config.communities:
            options = [(str(i), name) for i, name in enumerate(self.config.communities)]
            return _("Which community do you live in?"), choices(options, 2, done=False)
        if step == "community":
            return _("Which community (residential compound) are you in?"), {"remove_keyboard": True}
        if step == "skills":
            options = [(c, self.category_label(user, c)) for c in self.config.categories]
            return _("Which services can you offer? Tap every one that applies, then Done."), \
                choices(options, 2, done=True)
        if step == "occupation":
            return _("What is your occupation?"), choices([(c, _(t)) for c, t in OCCUPATIONS.items()], 3, done=False)
        if step == "hobbies":
            return (_("What are your hobbies? Tap every one that applies, then Done (or just Done)."),
                    choices([(c, _(t)) for c, t in HOBBIES.items()], 3, done=True))
        if step == "kind":
            return _("Which of these describes you?"), choices([(c, _(t)) for c, t in KINDS.items()], 1, done=False)
        if step == "organisation":
            return _("What is the name of your business? You will be its contact person."), None
        if step == "availability":
            return (_("When can you usually help? Tap every one that applies, then Done."),
                    choices([(c, _(t)) for c, t in AVAILABILITY.items()], 3, done=True))
        if step == "registry":
            return (_("If you have a national volunteer registry number, type it; otherwise tap Skip."),
                    inline([[button(_("Skip"), cb.JOIN_DONE, "registry")]]))
        return _("Which team would you like to join?"), inline([[button(t.name, cb.JOIN_TEAM, t.id)] for t in teams])

    async def join_question(self, user: User, step: str, draft: dict[str, Any], *, teams: Sequence[Team] = (),
                            editing: bool = False) -> int:
        """Ask a /join (or profile edit) question; returns the outbox row id of the message."""
        text, markup = self._join_prompt(user, step, draft, teams, editing)
        return await self.send(user.telegram_id, text, recipient=user, markup=markup)

    async def join_toggled(self, user: User, step: str, draft: dict[str, Any], *, editing: bool = False) -> int:
        """Show a multi-select question's new ✅ marks: its message is edited in place (asked anew if
        the dialog does not know the message). Returns the message's outbox row id."""
        if not draft.get("msg"):
            return await self.join_question(user, step, draft, editing=editing)
        text, markup = self._join_prompt(user, step, draft, (), editing)
        await self.uow.outbox.edit(int(draft["msg"]), {"text": text, "parse_mode": "HTML", "reply_markup": markup})
        return int(draft["msg"])

    def profile_lines(self, reader: User | None, profile: dict[str, Any], *, phone: bool) -> list[str]:
        """A volunteer's profile, a line per field; the phone only where ``phone`` (never in a group)."""
        _ = self.tr(reader)
        separator = _(LIST_SEPARATOR)

        def names(codes: Sequence[str], catalogue: dict[str, str]) -> str:
            return separator.join(_(catalogue[c]) if c in catalogue else c for c in codes) or "—"

        kind = profile.get("kind") or "resident"
        values = {
            "name": profile.get("name") or "—",
            "phone": profile.get("phone") or "—",
            "community": profile.get("community") or "—",
            "skills": separator.join(self.category_label(reader, c) for c in profile.get("skills") or []) or "—",
            "occupation": names([profile["occupation"]] if profile.get("occupation") else [], OCCUPATIONS),
            "hobbies": names(profile.get("hobbies") or [], HOBBIES),
            "kind": names([kind], KINDS),
            "organisation": profile.get("organisation") or "—",
            "availability": names(profile.get("availability") or [], AVAILABILITY),
            "registry": profile.get("registry") or "—",
        }
        shown = [f for f in PROFILE_FIELDS if (phone or f != "phone") and (f != "organisation" or kind == "business")]
        return [_("{label}: {value}", label=_(PROFILE_FIELDS[f]), value=values[f]) for f in shown]

    async def join_to_centre(self, volunteer_id: int, profile: dict[str, Any], team: Team, *, approved: bool) -> None:
        """A new membership, with the volunteer's profile, to the centre: Approve/Deny while it waits
        for approval, for information when none is needed. A group reads it without the phone."""
        for chat_id, reader in await self._centre():
            _ = self.tr(reader)
            if approved:
                headline = _("✅ {name} joined team {team} (no approval needed).", name=profile.get("name", ""),
                             team=team.name)
                markup = None
            else:
                headline = _("🙋 {name} asks to join team {team}.", name=profile.get("name", ""), team=team.name)
                markup = inline([[button(_("Approve"), cb.APPROVE, volunteer_id),
                                  button(_("Deny"), cb.DENY, volunteer_id)]])
            lines = self.profile_lines(reader, profile, phone=reader is not None)
            await self.send(chat_id, "\n".join([headline, *lines]), recipient=reader, markup=markup)

    async def profile(self, user: User, profile: dict[str, Any], teams: Sequence[tuple[str, str]]) -> None:
        """/profile: the person's own profile, their teams, and an edit button per field."""
        _ = self.tr(user)
        memberships = _(LIST_SEPARATOR).join(_("{team} ({status})", team=name, status=_(MEMBERSHIP_STATUS[status]))
                                            for name, status in teams)
        lines = [_("<b>Your volunteer profile</b>"), *self.profile_lines(user, profile, phone=True),
                 _("{label}: {value}", label=_("Teams"), value=memberships or "—")]
        editable = [f for f in PROFILE_FIELDS if f != "organisation" or profile.get("kind") == "business"]
        buttons = [button(_("✏️ {field}", field=_(PROFILE_FIELDS[f])), cb.PROFILE_EDIT, f) for f in editable]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        await self.send(user.telegram_id, "\n".join(lines), recipient=user, markup=inline(rows))

    # -- digests (bot.services.schedule.digests) -----------------------------------------------------------
    DIGEST_LINES = 15  # requests listed per section of a digest; the rest are counted
    MESSAGE_LIMIT = 4000  # below Telegram's 4096 characters (tags included, so on the safe side)

    def _fit(self, lines: Sequence[str]) -> str:
        """Lines joined into one message, cut at a line boundary to fit Telegram's limit."""
        lines = list(lines)
        text = "\n".join(lines)
        while len(text) > self.MESSAGE_LIMIT and len(lines) > 1:
            lines.pop()
            text = "\n".join(lines) + "\n…"
        return text

    def _duration(self, _: Translate, minutes: int) -> str:
        if minutes < 120:
            return _("{minutes} min", minutes=minutes)
        if minutes < 48 * 60:
            return _("{hours} h", hours=minutes // 60)
        return _("{days} d", days=minutes // (24 * 60))

    def _team_heading(self, _: Translate, team: str | None, count: int) -> str:
        if team is None:
            return _("<b>Not dispatched yet</b> · {count}", count=count)
        return _("<b>{team}</b> · {count}", team=team, count=count)

    def _digest_section(self, _: Translate, title: str,
                        groups: Sequence[tuple[str | None, Sequence[str]]]) -> list[str]:
        """A digest section: ``title`` (the total), then by team a heading and its lines, up to
        ``DIGEST_LINES`` lines in all; the rest are counted."""
        total = sum(len(entries) for _team, entries in groups)
        lines, shown = [_(title, count=total)], 0
        for team, entries in groups:
            if shown >= self.DIGEST_LINES:
                break
            lines.append(self._team_heading(_, team, len(entries)))
            lines += entries[: self.DIGEST_LINES - shown]
            shown += min(len(entries), self.DIGEST_LINES - shown)
        if total > shown:
            lines.append(_("… and {count} more", count=total - shown))
        return lines

    async def daily_digest(self, day: str, waiting: Sequence[tuple[str | None, Sequence[tuple[Order, int]]]],
                           late: Sequence[tuple[str | None, Sequence[tuple[Order, int, str]]]]) -> None:
        """The centre's daily digest: by team (``None``: not dispatched), the requests nobody took in
        time with the minutes they waited, and those past their time with the minutes since the
        agreed time and the volunteer's first name. One "all clear" line when there are none."""
        for chat_id, reader in await self._centre():
            _ = self.tr(reader) if reader else self.group_tr()
            if not waiting and not late:
                text = _("📋 Digest {day}: all clear — no request waits too long or is past its time.", day=day)
                await self.send(chat_id, text, recipient=reader)
                continue
            lines = [_("<b>📋 Digest {day}</b>", day=day)]
            if waiting:
                lines += self._digest_section(_, N_("⏳ Not taken in time: {count}"), [
                    (team, [_("{urgent}#{number} {category} · {community} · waiting {waited}",
                              urgent="🚨 " if o.urgent else "", number=o.id,
                              category=self.category_label(reader, o.category),
                              community=redact(o.community, DIGEST_FIELD_LIMIT),
                              waited=self._duration(_, minutes)) for o, minutes in entries])
                    for team, entries in waiting])
            if late:
                lines += self._digest_section(_, N_("⏰ Past their time: {count}"), [
                    (team, [_("#{number} {category} · {community} · {volunteer} · {late} late", number=o.id,
                              category=self.category_label(reader, o.category),
                              community=redact(o.community, DIGEST_FIELD_LIMIT),
                              volunteer=volunteer, late=self._duration(_, minutes))
                            for o, minutes, volunteer in entries])
                    for team, entries in late])
            await self.send(chat_id, self._fit(lines), recipient=reader)

    async def weekly_digest(self, team: Team, orders: Sequence[Order]) -> None:
        """A team's open requests, in its group: number, urgency, category, community, time and status
        only — never a name, phone number, address or description (the time and community are
        scrubbed of phone-like numbers, as they are typed by residents)."""
        _ = self.group_tr()
        assert team.chat_id is not None
        if not orders:
            await self.send(team.chat_id, _("📋 This week team {team} has no open requests. Thank you all!",
                                            team=team.name))
            return
        lines = [_("<b>📋 Open requests of team {team}: {count}</b>", team=team.name, count=len(orders))]
        for order in orders[: self.DIGEST_LINES * 2]:
            lines.append(_("{urgent}#{number} {category} · {community} · 🕒 {when} · {status}",
                           urgent="🚨 " if order.urgent else "", number=order.id,
                           category=self.category_label(None, order.category),
                           community=redact(order.community, DIGEST_FIELD_LIMIT),
                           when=redact(order.when_text, DIGEST_FIELD_LIMIT), status=_(STATUS_NAMES[order.status])))
        if len(orders) > self.DIGEST_LINES * 2:
            lines.append(_("… and {count} more", count=len(orders) - self.DIGEST_LINES * 2))
        await self.send(team.chat_id, self._fit(lines))

    def _month_line(self, _: Translate, row: tuple[str, int, int, float | None, int]) -> str:
        team, completed, rated, average, no_response = row
        return _("<b>{team}</b>: {completed} completed · average {stars} ({rated} rated) · no response: {no_response}",
                 team=team, completed=completed, rated=rated, no_response=no_response,
                 stars="—" if average is None else "★" + format(average, ".1f"))

    async def monthly_to_leader(self, leader: User, month: str, row: tuple[str, int, int, float | None, int]) -> None:
        """A team's month, privately to one of its leaders. ``row``: team name, requests completed,
        star ratings, their average (None without any), requests closed with no response."""
        _ = self.tr(leader)
        await self.send(leader.telegram_id, _("📊 Your team's month {month}:", month=month) + "\n"
                        + self._month_line(_, row), recipient=leader)

    async def monthly_to_centre(self, month: str, rows: Sequence[tuple[str, int, int, float | None, int]]) -> None:
        """Every team's month (rows as in :meth:`monthly_to_leader`) to the centre."""
        for chat_id, reader in await self._centre():
            _ = self.tr(reader) if reader else self.group_tr()
            lines = [_("<b>📊 Monthly report {month}</b>", month=month)]
            lines += [self._month_line(_, row) for row in rows] or [_("No teams yet.")]
            await self.send(chat_id, self._fit(lines), recipient=reader)
