"""Lists, sent privately (see bot.services.privately) a page at a time: open requests, buildings,
teams, a team at a glance, the service alliance's businesses, the talent reserve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.links import chat_link
from bot.domain.phones import shown_phone
from bot.domain.redact import redact
from bot.i18n import N_
from bot.views import callbacks as cb
from bot.views.common import STATUS_NAMES, View, button, inline
from bot.views.port import Markup
from bot.views.team_card import FIELD_LIMIT
from storage.models import Building, Order, Team, User, Volunteer
from storage.repositories import Talent

BUILDING_USAGE = N_("Usage: /building add CODE COMMUNITY NAME, /building leader CODE USER_ID, "
                    "/building unleader CODE USER_ID, /building link CODE, /building")
TEAM_USAGE = N_("Usage: /team add CODE NAME CATEGORY…, /team rename CODE NAME, /team categories CODE CATEGORY…, "
                "/team sub CODE SKILL NAME, /team member CODE USER_ID, /team leader CODE USER_ID, "
                "/team unleader CODE USER_ID, /team archive CODE, /team restore CODE, /team link CODE, /team CODE")
PAGE_LIMIT = 3900  # characters of a list page, page line and footer included (Telegram: 4096)


@dataclass(frozen=True)
class Listing:
    """Where a list goes: a new message in ``chat_id`` showing ``page`` (from 0), or, with ``row``
    (the outbox id of the list's message), that message edited in place to show ``page``."""

    chat_id: int
    page: int = 0
    row: int | None = None


def pages(title: str, lines: Sequence[str], footer: str) -> list[list[str]]:
    """``lines`` cut into pages that fit one message under ``title`` and above ``footer``; a line
    too long for a page by itself (a team's members) is cut between names."""
    budget = PAGE_LIMIT - len(title) - len(footer) - 60  # the page line and newlines
    pieces: list[str] = []
    for line in lines:
        while len(line) > budget and "<" not in line and ", " in line[:budget]:
            cut = line.rindex(", ", 0, budget)
            pieces.append(line[:cut + 1])
            line = line[cut + 2:]
        pieces.append(line)
    cut_pages: list[list[str]] = [[]]
    size = 0
    for piece in pieces:
        if cut_pages[-1] and size + len(piece) + 1 > budget:
            cut_pages.append([])
            size = 0
        cut_pages[-1].append(piece)
        size += len(piece) + 1
    return cut_pages


def page_buttons(row: int, page: int, count: int) -> Markup:
    buttons = ([button("◀", cb.PAGE, row, page - 1)] if page > 0 else []) + \
        ([button("▶", cb.PAGE, row, page + 1)] if page < count - 1 else [])
    return inline([buttons] if buttons else [])


def with_actions(markup: Markup | None, actions: list[dict[str, Any]]) -> Markup | None:
    """``markup`` (page buttons, or None) with a row of ``actions`` under it (if any)."""
    if not actions:
        return markup
    return inline([*(markup or {}).get("inline_keyboard", []), actions])


class ListsView(View):
    async def send(self, where: Listing, reader: User, title: str, lines: Sequence[str], *,
                   query: dict[str, Any], footer: str = "", protect: bool = False,
                   actions: list[dict[str, Any]] | None = None) -> None:
        """A list as one message a page long, with ◀ ▶ buttons when it has more pages (and a row of
        ``actions`` under them). The message's
        outbox row keeps ``query`` (what the list shows, never personal data) so a page button
        (``page:<row>:<page>``) can rebuild the list, re-checking who asks, and edit it in place."""
        _ = self.tr(reader)
        cut = pages(title, lines, footer)
        page = min(max(where.page, 0), len(cut) - 1)
        parts = [title, *cut[page]]
        if len(cut) > 1:
            parts.append(_("Page {page} of {pages}", page=page + 1, pages=len(cut)))
        if footer:
            parts.append(footer)
        text = "\n".join(parts)
        if where.row is not None:
            await self.out.edit(where.row, text, with_actions(page_buttons(where.row, page, len(cut)), actions or []))
            return
        await self.out.send_list(where.chat_id, text, recipient=reader if where.chat_id == reader.telegram_id else None,
                                 query=query, protect=protect,
                                 markup_for=lambda row: with_actions(
                                     page_buttons(row, page, len(cut)) if len(cut) > 1 else None, actions or []))

    async def sent_privately(self, chat_id: int, reader: User) -> None:
        """In a group where someone asked for a list: where it went (nothing of it is shown here)."""
        _ = self.group_tr()
        await self.out.send(chat_id, _("{name}, I sent the list to our private chat.", name=reader.first_name))

    async def needs_private_chat(self, chat_id: int, reader: User) -> None:
        _ = self.group_tr()
        await self.out.send(chat_id, _("{name}, lists are only sent in a private chat. Please open a chat with me, "
                                       "tap Start, then send the command there.", name=reader.first_name))

    async def private_only(self, chat_id: int, command: str, bot_username: str) -> None:
        """A command that works only in a private chat, sent in a group: said in the group's
        language, with nobody's name, and a button that opens the bot's private chat."""
        _ = self.group_tr()
        markup = inline([[{"text": _("💬 Open a private chat with me"), "url": chat_link(bot_username)}]]) \
            if bot_username else None
        await self.out.send(chat_id, _("/{command} works only in a private chat with me. Open a chat with me "
                                       "and send it there.", command=command), markup=markup)

    async def open_orders(self, where: Listing, reader: User, orders: Sequence[Order], teams: dict[int, str]) -> None:
        """``/orders``: open requests with the community (redacted: the centre's chat may be a group)."""
        _ = self.tr(reader)
        if not orders:
            await self.out.send(where.chat_id, _("No open requests."))
            return
        lines = [_("#{number} {category} · {community} · {status} {team}", number=o.id,
                   category=self.category_label(reader, o.category), community=redact(o.community, FIELD_LIMIT),
                   status=_(STATUS_NAMES[o.status]), team=teams.get(o.team_id or 0, "")) for o in orders]
        await self.send(where, reader, _("Open requests:"), lines, query={"kind": "orders"})

    async def buildings(self, where: Listing, reader: User, buildings: Sequence[Building]) -> None:
        _ = self.tr(reader)
        if not buildings:
            await self.tell(reader, N_("No buildings yet: add one with /building add CODE COMMUNITY NAME."))
            return
        lines = [_("{community} · <b>{name}</b> ({code}) · {leader}", community=b.community, name=b.name, code=b.code,
                   leader=_("leader appointed") if b.leader_id else _("no leader yet")) for b in buildings]
        await self.send(where, reader, _("Buildings:"), lines, query={"kind": "buildings"}, footer=_(BUILDING_USAGE))

    async def teams(self, where: Listing, reader: User, teams: Sequence[Team]) -> None:
        _ = self.tr(reader)
        if not teams:
            await self.out.send(where.chat_id, _("No teams yet: create one with /team add."), recipient=reader)
            return
        lines = [_("<b>{team}</b> ({code}) · {categories} · {state}", team=t.name, code=t.code,
                   categories=", ".join(self.category_label(reader, c) for c in t.categories),
                   state=_("archived") if not t.active else _("group linked") if t.chat_id else _("no group yet"))
                 for t in teams]
        await self.send(where, reader, _("Teams:"), lines, query={"kind": "teams"}, footer=_(TEAM_USAGE))

    async def team(self, where: Listing, reader: User, team: Team, members: Sequence[tuple[str, bool]],
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
        await self.send(where, reader, title, lines, query={"kind": "team", "code": team.code})

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
        await self.send(where, reader, _("Businesses of the service alliance:"), lines, query={"kind": "businesses"})

    async def talent(self, where: Listing, coordinator: User, skill: str, community: str | None,
                     found: Sequence[Talent]) -> None:
        """The talent reserve, privately to a coordinator (it holds phone numbers)."""
        _ = self.tr(coordinator)
        if not found:
            await self.tell(coordinator, N_("No approved volunteer has the skill {skill}."),
                            skill=self.category_label(coordinator, skill))
            return
        duty = {None: "—", True: _("on duty"), False: _("off duty")}  # once, not per person: a skill names thousands
        lines = [_("{name} · {team} · {community} · {phone} · {duty}", name=v.name, team=v.team,
                   community=v.community or "—", phone=shown_phone(v.phone), duty=duty[v.on_duty])
                 for v in found]
        await self.send(where, coordinator, _("Volunteers for {skill}:", skill=self.category_label(coordinator, skill)),
                        lines, query={"kind": "find", "skill": skill, "community": community}, protect=True)
