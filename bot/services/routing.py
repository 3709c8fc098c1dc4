"""Routing: a new order that a coordinator's rule (category, optionally community → team) or the
emergency route names a team for goes to that team at once, through the same dispatch as a
coordinator's tap; the centre's card says it was routed and keeps the buttons to move it. Orders
no rule matches wait for a coordinator. Also the rules themselves, which only coordinators keep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.request_steps import EMERGENCY  # the category that never waits for a coordinator
from bot.i18n import N_
from bot.services import dispatch, privately
from bot.services.context import ServiceContext
from bot.services.schedule.sweep import system_user
from bot.views.centre import ROUTED_BY_RULE, ROUTED_EMERGENCY
from bot.views.common import Reader
from bot.views.routes import ANY_COMMUNITY
from storage.errors import AlreadyTaken
from storage.models import Order, RouteRule, Team


def _same_community(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def most_specific(rules: Sequence[RouteRule], category: str, community: str) -> RouteRule | None:
    """The rule for an order: one naming its category and community beats one for the category in
    any community."""
    mine = [r for r in rules if r.category == category]
    exact = [r for r in mine if r.community and _same_community(r.community, community)]
    anywhere = [r for r in mine if not r.community]
    best = exact or anywhere
    return best[0] if best else None


def _usable(team: Team | None) -> bool:
    return team is not None and team.active and team.chat_id is not None


async def team_for(ctx: ServiceContext, order: Order) -> tuple[Team, str] | None:
    """Where a new order goes without a coordinator, and how (a rule, the emergency route); None:
    it waits. A rule whose team was archived or lost its group is passed over."""
    rule = most_specific(await ctx.uow.routes.for_category(order.category), order.category, order.community)
    how = ROUTED_EMERGENCY if order.category == EMERGENCY else ROUTED_BY_RULE
    team = await ctx.uow.teams.get(rule.team_id) if rule is not None else None
    if team is not None and _usable(team):
        return team, how
    if order.category == EMERGENCY:
        for candidate in await ctx.uow.teams.for_category(EMERGENCY):
            if _usable(candidate):
                return candidate, how
    return None


async def route_new(ctx: ServiceContext, order: Order) -> None:
    """Called once an order is placed and the centre has its card: dispatch it if a rule or the
    emergency route says where. The system is the dispatcher (the audit log names no coordinator)."""
    route = await team_for(ctx, order)
    if route is not None:
        team, how = route
        await dispatch.send_to(dataclasses.replace(ctx, user=system_user()), order.id, team, routed=how)


# -- the rules, kept by coordinators with buttons ----------------------------------------------------
def known_communities(ctx: ServiceContext, buildings_communities: Sequence[str]) -> list[str]:
    """The communities a rule can name: the configured ones, then the buildings' (each once)."""
    return list(dict.fromkeys(c for c in [*ctx.config.communities, *buildings_communities] if c))


async def _communities(ctx: ServiceContext) -> list[str]:
    return known_communities(ctx, [b.community for b in await ctx.uow.buildings.every()])


async def _reader(ctx: ServiceContext, chat_id: int | None) -> Reader | None:
    """Where the rules are shown: the private chat, or the centre's group (a rule holds nothing
    personal); asked in another group, privately."""
    where = await privately.list_target(ctx, chat_id, centre_may_read=True)
    if where is None:
        return None
    return Reader(where.chat_id, None if where.chat_id == ctx.config.coordinators_chat_id else ctx.user)


async def _show(ctx: ServiceContext, reader: Reader | None) -> None:
    if reader is not None:
        teams = {t.id: t for t in await ctx.uow.teams.every()}
        await ctx.tell.routes.rules(reader, await ctx.uow.routes.every(), teams)


async def show_rules(ctx: ServiceContext, chat_id: int | None) -> None:
    """``/routes``: the rules, with a delete button each and "add a rule"."""
    ctx.require_coordinator()
    await _show(ctx, await _reader(ctx, chat_id))
    await ctx.uow.commit()


def _category(ctx: ServiceContext, category: str) -> str:
    if category not in ctx.config.categories:
        raise InvalidInput(N_("Unknown kind of help; please choose one of the buttons."))
    return category


async def _community(ctx: ServiceContext, index: int) -> str:
    """The community a button's index names ("" for any)."""
    if index == ANY_COMMUNITY:
        return ""
    communities = await _communities(ctx)
    if not 1 <= index <= len(communities):
        raise Conflict(N_("This button is out of date."))
    return communities[index - 1]


async def ask_category(ctx: ServiceContext, chat_id: int | None) -> None:
    ctx.require_coordinator()
    reader = await _reader(ctx, chat_id)
    if reader is not None:
        await ctx.tell.routes.ask_category(reader, ctx.config.categories)
    await ctx.uow.commit()


async def ask_community(ctx: ServiceContext, chat_id: int | None, category: str) -> None:
    ctx.require_coordinator()
    category = _category(ctx, category)
    reader = await _reader(ctx, chat_id)
    if reader is not None:
        await ctx.tell.routes.ask_community(reader, category, await _communities(ctx))
    await ctx.uow.commit()


async def ask_team(ctx: ServiceContext, chat_id: int | None, category: str, community_index: int) -> None:
    ctx.require_coordinator()
    category = _category(ctx, category)
    community = await _community(ctx, community_index)
    reader = await _reader(ctx, chat_id)
    if reader is not None:
        await ctx.tell.routes.ask_team(reader, category, community_index, community,
                                       await ctx.uow.teams.for_category(category))
    await ctx.uow.commit()


async def add_rule(ctx: ServiceContext, chat_id: int | None, category: str, community_index: int,
                   team_id: int) -> RouteRule:
    """Save a rule (replacing the team of the same category and community), then show the rules."""
    ctx.require_coordinator()
    category = _category(ctx, category)
    community = await _community(ctx, community_index)
    team = await ctx.uow.teams.get(team_id)
    if team is None or not team.active or category not in team.categories:
        raise NotFound(N_("There is no team {team}."), team=team_id)
    try:
        rule = await ctx.uow.routes.put(category, community, team.id, ctx.user.id)
    except AlreadyTaken:  # another coordinator saved this rule at the same moment
        raise Conflict(N_("This button is out of date.")) from None
    await _show(ctx, await _reader(ctx, chat_id))
    await ctx.uow.commit()
    return rule


async def delete_rule(ctx: ServiceContext, chat_id: int | None, rule_id: int) -> None:
    ctx.require_coordinator()
    if not await ctx.uow.routes.delete(rule_id):
        raise Conflict(N_("This rule was already deleted."))
    await _show(ctx, await _reader(ctx, chat_id))
    await ctx.uow.commit()
