"""What people are told of recognition (典型推介, :mod:`bot.services.recognition`): the coordinators'
nomination cards with ✅ Approve / ✖️ Skip, the announcement in the team's group, the star's private
note with the certificate image. Group texts name volunteers only in their own team's group and
never carry a phone number (the port masks any anyway)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.attachments import StarCertificate
from bot.i18n import N_, P_, Translate
from bot.views import callbacks as cb
from bot.views.common import Reader, View, button, inline, month_label
from bot.views.hours import hours
from storage.models import Team, User

STAR, TEAM = "star", "team"
DECISIONS = {"approved": N_("✅ Approved by {name}"), "posted": N_("✅ Approved by {name}"),
             "rejected": N_("✖️ Skipped by {name}")}


@dataclass(frozen=True)
class Shown:
    """A nomination as the views show it: plain values, looked up by the service."""

    id: int
    kind: str  # star | team
    month: str  # YYYY-MM
    team: str
    name: str  # the star's name in the team's roster; "" for a team
    figures: dict[str, Any]
    status: str
    decider: str = ""  # the deciding coordinator's first name

    @property
    def first(self) -> dt.date:
        return dt.date.fromisoformat(self.month + "-01")


# Counted nouns, each in the form its number calls for, to put into a line with more than one number.
REQUESTS_COMPLETED = P_("{count} request completed", "{count} requests completed")
ACTIVITIES = P_("{count} activity", "{count} activities")
ACTIVITY_PLACES = P_("{count} activity place attended", "{count} activity places attended")
SERVICES = P_("{count} service", "{count} services")


def certificate_texts(_: Translate, star: StarCertificate) -> tuple[str, str]:
    """The certificate's month label and rating text, in the star's language (the image's words)."""
    rating = (_("{satisfied} of {rated} ratings satisfied", satisfied=star.satisfied, rated=star.rated)
              if star.rated else _("no ratings yet"))
    return month_label(_, dt.date.fromisoformat(star.month + "-01")), rating


def _response(_: Translate, minutes: object) -> str:
    """The median response, or "—" when no round was offered and accepted."""
    return _("{minutes} min", minutes=round(minutes)) if isinstance(minutes, int | float) else "—"


def figures_line(_: Translate, shown: Shown) -> str:
    f = shown.figures
    line = _("{orders} · {activities} · satisfied {satisfied} of {rated} rated "
             "({unrated} not rated) · median response {response} · {hours} h",
             orders=_(REQUESTS_COMPLETED, count=f["orders"]), activities=_(ACTIVITIES, count=f["activities"]),
             satisfied=f["satisfied"], rated=f["rated"], unrated=f["unrated"],
             response=_response(_, f.get("median_response")), hours=hours(int(f["minutes"])))
    if shown.kind == TEAM:
        line += "\n" + _(P_("{members} member (counted per member)", "{members} members (counted per member)",
                            "members"), members=f["members"])
    return line + "\n" + _("Score {score}", score=f["score"])


def card_text(_: Translate, shown: Shown) -> str:
    month = month_label(_, shown.first)
    if shown.kind == STAR:
        head = _("🌟 Volunteer Star of {month}, team {team}: <b>{name}</b>", month=month, team=shown.team,
                 name=shown.name)
    else:
        head = _("🏆 Five-Star Team of {month}: <b>{team}</b>", month=month, team=shown.team)
    lines = [head, figures_line(_, shown)]
    if shown.status in DECISIONS:
        lines.append(_(DECISIONS[shown.status], name=shown.decider))
    return "\n".join(lines)


class RecognitionView(View):
    def _card(self, _: Translate, shown: Shown) -> tuple[str, dict[str, Any] | None]:
        markup = None
        if shown.status == "proposed":
            markup = inline([[button(_("✅ Approve"), cb.NOMINATION_APPROVE, shown.id),
                              button(_("✖️ Skip"), cb.NOMINATION_SKIP, shown.id)]])
        return card_text(_, shown), markup

    async def cards(self, readers: Sequence[Reader], month: str, shown: Sequence[Shown]) -> dict[int, list[str]]:
        """The month's nominations to the coordinators, a card each (buttons while undecided);
        returns each nomination's cards as ``"<outbox row>:<language>"`` (to edit them once decided)."""
        sent: dict[int, list[str]] = {s.id: [] for s in shown}
        for reader in readers:
            _ = self.reading(reader)
            language = reader.user.language if reader.user and reader.user.language else self.settings.default_language
            first = dt.date.fromisoformat(month + "-01")
            await self.out.send(reader.chat_id, _("🏅 Nominations for {month}: nothing is posted until you approve it.",
                                                  month=month_label(_, first)), recipient=reader.user)
            for nomination in shown:
                text, markup = self._card(_, nomination)
                row = await self.out.send(reader.chat_id, text, recipient=reader.user, markup=markup)
                sent[nomination.id].append(f"{row}:{language}")
        return sent

    async def decided(self, cards: Sequence[str], shown: Shown) -> None:
        """Every coordinator's card of a decided nomination: the decision, no buttons."""
        for card in cards:
            row, _sep, language = card.partition(":")
            await self.out.edit(int(row), card_text(self.i18n.translator(language or None), shown), None)

    async def none_yet(self, user: User) -> None:
        await self.tell(user, N_("No nominations yet: they come on the 1st of each month, after the monthly report."))

    async def announce(self, team: Team, shown: Shown) -> None:
        """The approved nomination, in the team's own group."""
        assert team.chat_id is not None
        _ = self.group_tr()
        month, f = month_label(_, shown.first), shown.figures
        if shown.kind == STAR:
            text = _("🌟 <b>{name}</b> is team {team}'s Volunteer Star of {month}: {orders} "
                     "and {activities}. Thank you for your care!", name=shown.name, team=shown.team,
                     month=month, orders=_(REQUESTS_COMPLETED, count=f["orders"]),
                     activities=_(ACTIVITIES, count=f["activities"]))
        else:
            text = _("🏆 Team <b>{team}</b> is the Five-Star Team of {month}! {orders} and "
                     "{activities}. Thank you, everyone!", team=shown.team, month=month,
                     orders=_(REQUESTS_COMPLETED, count=f["orders"]),
                     activities=_(ACTIVITY_PLACES, count=f["activities"]))
        await self.out.send(team.chat_id, text)

    async def star_note(self, star: User, shown: Shown, certificate: StarCertificate) -> None:
        """The star's private note, with the certificate image of their month."""
        _ = self.tr(star)
        hours = format(certificate.hours, "g")
        caption = _("🌟 Congratulations, {name}! You are team {team}'s Volunteer Star of {month}: {hours} h, "
                    "{services}. Thank you!", name=shown.name, team=shown.team,
                    month=month_label(_, shown.first), hours=hours, services=_(SERVICES, count=certificate.services))
        await self.out.send_file(star.telegram_id, caption, certificate, recipient=star)
