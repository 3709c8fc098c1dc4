"""What people are told, by audience: ``ctx.tell`` in every service call.

``await ctx.tell(user, N_("…"), **params)`` says one thing to one person in their language; the
audiences' views render the rest — ``ctx.tell.resident``, ``ctx.tell.volunteer``, ``ctx.tell.card``
(an order's card in a team's group), ``ctx.tell.centre``, ``ctx.tell.lists``, ``ctx.tell.joining``
(registration and profile), ``ctx.tell.digests``, ``ctx.tell.routes`` (the routing rules),
``ctx.tell.activities`` (activity cards), ``ctx.tell.attendance`` (check-in at an activity),
``ctx.tell.hours`` (service hours), ``ctx.tell.recognition`` (典型推介), ``ctx.tell.points`` (points
and redemptions), ``ctx.tell.history`` and ``ctx.tell.privacy`` (/mydata, /forget). Everything is queued through one
:class:`~bot.views.port.Outgoing` on the unit of work's outbox, so it commits with the change that
caused it. Views look nobody up: who the centre is comes from bot.services.audiences.
"""

from __future__ import annotations

from bot.domain.attachments import Attachment
from bot.i18n import I18n
from bot.views.activities import ActivitiesView
from bot.views.attendance import AttendanceView
from bot.views.centre import CentreView
from bot.views.common import COULD_NOT_HANDLE, View, ViewSettings
from bot.views.digests import DigestsView
from bot.views.history import HistoryView
from bot.views.hours import HoursView
from bot.views.lists import ListsView
from bot.views.points import PointsView
from bot.views.port import Markup, Outbox, Outgoing
from bot.views.privacy import PrivacyView
from bot.views.recognition import RecognitionView
from bot.views.registration import RegistrationView
from bot.views.report import ReportView
from bot.views.resident import ResidentView
from bot.views.routes import RoutesView
from bot.views.team_card import TeamCardView
from bot.views.volunteer import VolunteerView
from storage.models import User


class Tell(View):
    """The views of one unit of work, over one port."""

    def __init__(self, outbox: Outbox, i18n: I18n, settings: ViewSettings) -> None:
        out = Outgoing(outbox, settings.coordinators_chat_id)
        super().__init__(out, i18n, settings)
        self.resident = ResidentView(out, i18n, settings)
        self.volunteer = VolunteerView(out, i18n, settings)
        self.card = TeamCardView(out, i18n, settings)
        self.centre = CentreView(out, i18n, settings)
        self.lists = ListsView(out, i18n, settings)
        self.joining = RegistrationView(out, i18n, settings)
        self.digests = DigestsView(out, i18n, settings)
        self.routes = RoutesView(out, i18n, settings)
        self.activities = ActivitiesView(out, i18n, settings)
        self.attendance = AttendanceView(out, i18n, settings)
        self.hours = HoursView(out, i18n, settings)
        self.recognition = RecognitionView(out, i18n, settings)
        self.points = PointsView(out, i18n, settings)
        self.history = HistoryView(out, i18n, settings)
        self.report = ReportView(out, i18n, settings)
        self.privacy = PrivacyView(out, i18n, settings)

    async def __call__(self, user: User, message: str, *, markup: Markup | None = None, protect: bool = False,
                       **params: object) -> int:
        """Queue ``message`` (a msgid) to ``user``'s private chat, in their language."""
        return await self.tell(user, message, markup=markup, protect=protect, **params)

    async def send(self, chat_id: int, text: str, *, recipient: User | None = None, markup: Markup | None = None,
                   protect: bool = False) -> int:
        """Queue an already rendered text; returns the outbox row id."""
        return await self.out.send(chat_id, text, recipient=recipient, markup=markup, protect=protect)

    async def send_file(self, chat_id: int, reader: User, caption: str, attachment: Attachment, *,
                        protect: bool = False, **params: object) -> None:
        """A photo or document made when the message goes out (see :mod:`bot.adapters.attachments`),
        with a caption (a msgid) in ``reader``'s language."""
        await self.out.send_file(chat_id, self.tr(reader)(caption, **params), attachment,
                                 recipient=reader if chat_id == reader.telegram_id else None, protect=protect)

    async def commands(self, person: User, commands: list[dict[str, str]]) -> None:
        """``person``'s private chat gets this command menu."""
        await self.out.set_commands(person, commands)

    async def could_not_handle(self, chat_id: int, user: User | None) -> None:
        """A person's update was parked: they hear so, rather than nothing."""
        await self.out.send(chat_id, self.tr(user)(COULD_NOT_HANDLE), recipient=user)

    async def refuse(self, chat_id: int, user: User | None, message: str, **params: object) -> None:
        await self.out.send(chat_id, "⚠️ " + self.tr(user)(message, **params), recipient=user)
