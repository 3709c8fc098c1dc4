"""What people are told of their own data (:mod:`bot.services.privacy`): the ``/mydata`` summary
with its JSON file, the ``/forget`` question with ✅/❌ (the buttons carry the question's own
message row, nothing personal) and the answers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.attachments import MyData
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import View, button, inline
from storage.models import User
from storage.repositories import FORGET_OFFER  # the mark on the question's outbox row, checked when a button is tapped


@dataclass(frozen=True)
class Summary:
    """The counts the ``/mydata`` message shows; the file has the rows themselves."""

    name: str
    phone: str
    home: str
    orders_placed: int
    orders_served: int
    ratings: int
    hours_minutes: int
    memberships: int
    buildings: int
    signups: int
    nominations: int
    audit: int


class PrivacyView(View):
    async def summary(self, person: User, facts: Summary) -> None:
        _ = self.tr(person)
        text = _(N_("🔒 <b>What we keep about you</b>\nName: {name}\nPhone: {phone}\nHome: {home}\n"
                    "Requests you placed: {placed}\nRequests you served: {served}\nRatings you gave: {ratings}\n"
                    "Service hours: {hours}\n"
                    "Team memberships: {teams}\nBuildings you lead: {buildings}\nActivity sign-ups: {signups}\n"
                    "Recognitions: {nominations}\nRecords that name you: {audit}\n\n"
                    "Everything is in the file below. To erase it, use /forget."),
                 name=facts.name or "—", phone=facts.phone or "—", home=facts.home or "—", placed=facts.orders_placed,
                 served=facts.orders_served, ratings=facts.ratings, hours=f"{facts.hours_minutes / 60:.1f}",
                 teams=facts.memberships, buildings=facts.buildings, signups=facts.signups,
                 nominations=facts.nominations, audit=facts.audit)
        await self.out.send(person.telegram_id, text, recipient=person, protect=True)
        await self.out.send_file(person.telegram_id, _(N_("🔒 Your data, as the bot stores it (JSON).")),
                                 MyData(person.id, person.language or self.settings.default_language),
                                 recipient=person, protect=True)

    async def ask_to_forget(self, person: User, open_orders: int, serving: int) -> None:
        _ = self.tr(person)
        lines = [_(N_("🗑 <b>Erase your data?</b> Your name, phone numbers and addresses will be removed from the "
                      "bot everywhere. Counts without your name stay for the reports."))]
        if open_orders:
            lines.append(_(N_("Open requests to be cancelled: {count}."), count=open_orders))
        if serving:
            lines.append(_(N_("Requests you are serving, to go back to their team: {count}."), count=serving))
        lines.append(_(N_("Your roles (coordinator, team leader, building leader) end. This cannot be undone.")))

        def markup(row: int) -> dict[str, object]:
            return inline([[button(_(N_("✅ Yes, erase my data")), cb.FORGET, row, 1),
                            button(_(N_("❌ No, keep it")), cb.FORGET, row, 0)]])

        await self.out.send_marked(person.telegram_id, "\n".join(lines), recipient=person, mark=FORGET_OFFER,
                                   markup_for=markup)

    async def kept(self, person: User) -> None:
        await self.tell(person, N_("Nothing was erased. Your data stays as it was."))

    def forgotten_text(self, person: User) -> str:
        return self.tr(person)(N_("🗑 Done: your data is erased. If you write again, you start as a new person."))
