"""What coordinators are shown while keeping the routing rules: the rules with a delete button
each and "add a rule", then one question a step (kind of help, community, team), all as buttons.
The buttons carry a category code, an index into the known communities and ids, nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.views import callbacks as cb
from bot.views.common import Reader, View, button, inline
from storage.models import RouteRule, Team

ANY_COMMUNITY = 0  # the community button "any"; community i of the known ones is i + 1


class RoutesView(View):
    async def rules(self, reader: Reader, rules: Sequence[RouteRule], teams: Mapping[int, Team]) -> None:
        """The rules, most specific first within a kind of help, each with its delete button."""
        _ = self.reading(reader)
        lines = [_("🧭 Routing rules: a new request that matches goes straight to the team, "
                   "and you see it was routed.")]
        rows = []
        for number, rule in enumerate(rules, start=1):
            team = teams.get(rule.team_id)
            lines.append(_("{number}. {category} · {community} → {team}", number=number,
                           category=self.category_label(reader.user, rule.category),
                           community=rule.community or _("any community"),
                           team=team.name if team is not None else "?"))
            rows.append([button(_("🗑 Delete rule {number}", number=number), cb.ROUTE_DELETE, rule.id)])
        if not rules:
            lines.append(_("No rules yet: every request waits for a coordinator."))
        rows.append([button(_("🆕 Add a rule"), cb.ROUTE_ADD)])
        await self.out.send(reader.chat_id, "\n".join(lines), recipient=reader.user, markup=inline(rows))

    async def ask_category(self, reader: Reader, categories: Sequence[str]) -> None:
        _ = self.reading(reader)
        rows = [[button(self.category_label(reader.user, c), cb.ROUTE_CATEGORY, c)] for c in categories]
        await self.out.send(reader.chat_id, _("New rule: which kind of help?"), recipient=reader.user,
                            markup=inline(rows))

    async def ask_community(self, reader: Reader, category: str, communities: Sequence[str]) -> None:
        _ = self.reading(reader)
        rows = [[button(_("Any community"), cb.ROUTE_COMMUNITY, category, ANY_COMMUNITY)]]
        rows += [[button(c, cb.ROUTE_COMMUNITY, category, i)] for i, c in enumerate(communities, start=1)]
        await self.out.send(reader.chat_id, _("New rule for {category}: from which community?",
                                              category=self.category_label(reader.user, category)),
                            recipient=reader.user, markup=inline(rows))

    async def ask_team(self, reader: Reader, category: str, community_index: int, community: str,
                       teams: Sequence[Team]) -> None:
        _ = self.reading(reader)
        rows = [[button(t.name, cb.ROUTE_TEAM, category, community_index, t.id)] for t in teams]
        text = _("New rule for {category} · {community}: which team takes these requests?",
                 category=self.category_label(reader.user, category), community=community or _("any community"))
        if not teams:
            text += "\n" + _("No team takes this kind of request yet: create one with /team add.")
        await self.out.send(reader.chat_id, text, recipient=reader.user, markup=inline(rows))

