"""Teams as the centre runs them: creation, their group chats, rename, archive, categories,
sub-teams by skill, team leaders, join links with QR codes, the flag raised when a member leaves
the team's group, and the businesses of the service alliance.

Coordinators manage every team; a team leader may look at their own team and hand out its link.
"""

from __future__ import annotations

from bot.domain.attachments import QrCode
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.lifecycle import WITH_TEAM, OrderStatus
from bot.domain.links import TEAM, is_code, start_link
from bot.i18n import N_, P_
from bot.services import privately, registration, roles
from bot.services.context import ServiceContext
from bot.views.lists import Listing
from storage.models import Team


async def team_by_code(ctx: ServiceContext, code: str) -> Team:
    team = await ctx.uow.teams.by_code(code)
    if team is None:
        raise NotFound(N_("There is no team {team}."), team=code)
    return team


async def _managed(ctx: ServiceContext, code: str) -> Team:
    """The team, if the actor is a coordinator or one of its leaders."""
    team = await team_by_code(ctx, code)
    if not ctx.is_coordinator and team not in await ctx.uow.teams.led_by(ctx.user.id):
        raise NotAllowed(N_("Only a coordinator or a leader of team {team} can do this."), team=team.name)
    return team


def _categories(ctx: ServiceContext, categories: list[str]) -> list[str]:
    unknown = [c for c in categories if c not in ctx.config.categories]
    if not categories or unknown:
        raise InvalidInput(N_("Categories must be some of: {known}."), known=", ".join(ctx.config.categories))
    return list(dict.fromkeys(categories))


# -- creating teams and binding their groups ------------------------------------------------------
async def add_team(ctx: ServiceContext, code: str, name: str, categories: list[str], reply_chat_id: int) -> Team:
    ctx.require_coordinator()
    code = code.lower()
    if not is_code(code):
        raise InvalidInput(N_("A team code is 2–32 lowercase letters, digits or _ (e.g. fx_1)."))
    categories = _categories(ctx, categories)
    if await ctx.uow.teams.by_code(code) is not None:
        raise Conflict(N_("Team {code} already exists."), code=code)
    team = await ctx.uow.teams.add(code, name[:128], categories)
    await ctx.tell.send(reply_chat_id, ctx.tell.tr(ctx.user)(
        N_("Team {name} ({code}) created for: {categories}. Add me to its group and send /link {code} there."),
        name=team.name, code=code, categories=", ".join(categories)), recipient=None)
    await ctx.uow.commit()
    return team


async def link_group(ctx: ServiceContext, code: str, chat_id: int) -> Team:
    """Bind a group chat to a team (a coordinator, in that group)."""
    ctx.require_coordinator()
    team = await ctx.uow.teams.by_code(code)
    if team is None:
        raise NotFound(N_("There is no team {team}."), team=code)
    await ctx.uow.teams.bind_chat(team.id, chat_id)
    _ = ctx.tell.group_tr()
    await ctx.tell.send(chat_id, _("This group is now the group of team <b>{team}</b>. Requests for it will "
                                    "appear here; members who have joined the team can take them.",
                                    team=team.name))
    await ctx.uow.commit()
    return team


async def bot_added_to_group(ctx: ServiceContext, chat_id: int) -> None:
    _ = ctx.tell.group_tr()
    team = await ctx.uow.teams.by_chat(chat_id)
    if team is None:
        await ctx.tell.send(chat_id, _("Hello! A coordinator can bind this group to a team by sending "
                                        "/link &lt;team code&gt; here."))
    await ctx.uow.commit()


async def bot_removed_from_group(ctx: ServiceContext, chat_id: int) -> None:
    team = await ctx.uow.teams.unbind_chat(chat_id)
    if team is not None:
        await ctx.tell.centre.message(
            await ctx.centre(), N_("I was removed from the group of team {team}; its requests cannot be "
                                    "posted until a group is linked again."), team=team.name)
    await ctx.uow.commit()


async def group_migrated(ctx: ServiceContext, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its team and any unsent messages follow the new id."""
    await ctx.uow.teams.move_chat(old_chat_id, new_chat_id)
    await ctx.uow.outbox.move_chat(old_chat_id, new_chat_id)
    await ctx.uow.commit()


# -- managing teams ---------------------------------------------------------------------------------
async def rename(ctx: ServiceContext, code: str, name: str) -> None:
    ctx.require_coordinator()
    name = " ".join(name.split())[:128]
    if not name:
        raise InvalidInput(N_("Usage: /team rename CODE NEW NAME"))
    team = await team_by_code(ctx, code)
    old = team.name
    team.name = name
    await ctx.tell(ctx.user, N_("Team {old} is now called {team}."), old=old, team=name)
    await ctx.uow.commit()


async def set_categories(ctx: ServiceContext, code: str, categories: list[str]) -> None:
    ctx.require_coordinator()
    team = await team_by_code(ctx, code)
    team.categories = _categories(ctx, categories)
    await ctx.tell(ctx.user, N_("Team {team} now takes: {categories}."), team=team.name,
                    categories=", ".join(team.categories))
    await ctx.uow.commit()


async def archive(ctx: ServiceContext, code: str, archived: bool) -> None:
    """Archive a team (no more dispatch or joining; its history stays) or bring it back."""
    ctx.require_coordinator()
    team = await team_by_code(ctx, code)
    if not await ctx.uow.teams.set_active(team.id, not archived, unless_open=sorted(WITH_TEAM)):
        if archived and team.active:
            raise Conflict(N_("Team {team} still has open requests; finish or move them first."), team=team.name)
        raise Conflict(N_("Team {team} is already archived.") if archived else N_("Team {team} is not archived."),
                       team=team.name)
    await ctx.tell(ctx.user, N_("Team {team} is archived.") if archived else N_("Team {team} is active again."),
                    team=team.name)
    await ctx.uow.commit()


async def add_subteam(ctx: ServiceContext, code: str, skill: str, name: str) -> None:
    """A sub-team of the team's approved members with ``skill`` (renamed if it exists)."""
    ctx.require_coordinator()
    team = await team_by_code(ctx, code)
    skill = skill.lower()
    if skill not in ctx.config.categories:
        raise InvalidInput(N_("Skills are: {known}."), known=", ".join(ctx.config.categories))
    name = " ".join(name.split())[:64]
    if not name:
        raise InvalidInput(N_("Usage: /team sub CODE SKILL NAME"))
    await ctx.uow.teams.add_subteam(team.id, skill, name)
    members = [v for v in await ctx.uow.volunteers.members(team.id) if skill in v.skills]
    await ctx.tell(ctx.user, P_("Sub-team {name} of team {team}: {count} member with the skill {skill}.",
                                "Sub-team {name} of team {team}: {count} members with the skill {skill}."),
                    name=name, team=team.name, count=len(members),
                    skill=ctx.tell.category_label(ctx.user, skill))
    await ctx.uow.commit()


async def appoint_leader(ctx: ServiceContext, code: str, telegram_id: int, appoint: bool) -> None:
    """Make an approved member the team's leader (or stand them down); their menu follows."""
    ctx.require_coordinator()
    team = await team_by_code(ctx, code)
    person = await ctx.uow.users.by_telegram_id(telegram_id)
    if person is None or await ctx.uow.volunteers.approved(person.id, team.id) is None:
        raise Conflict(N_("Only an approved member of team {team} can lead it."), team=team.name)
    if not await ctx.uow.volunteers.set_leader(person.id, team.id, appoint):
        raise Conflict(N_("{name} already leads team {team}.") if appoint else N_("{name} does not lead team {team}."),
                       name=person.first_name, team=team.name)
    await ctx.uow.audit.record(ctx.user.id, "team", team.id, "leader_set" if appoint else "leader_unset",
                               user=person.id)
    await roles.refresh_menu(ctx, person)
    if appoint:
        await ctx.tell(person, N_("You are now a leader of team {team}. Send /team to see its members "
                                   "and its join link."), team=team.name)
    else:
        await ctx.tell(person, N_("You no longer lead team {team}. Thank you!"), team=team.name)
    await ctx.tell(ctx.user, N_("{name} now leads team {team}.") if appoint else
                    N_("{name} no longer leads team {team}."), name=person.first_name, team=team.name)
    await ctx.uow.commit()


async def add_member(ctx: ServiceContext, code: str, telegram_id: int) -> None:
    """A coordinator puts a registered volunteer into a team directly (approved at once): the
    other way in besides the team's join link."""
    ctx.require_coordinator()
    team = await team_by_code(ctx, code)
    if not team.active:
        raise Conflict(N_("Team {team} is archived."), team=team.name)
    person = await ctx.uow.users.by_telegram_id(telegram_id)
    if person is None:
        raise NotFound(N_("That person has not started the bot yet: ask them to open it first."))
    mine = await ctx.uow.volunteers.of_user(person.id)
    if not mine:
        raise Conflict(N_("{name} has no volunteer profile yet: ask them to send /join, or import them with the "
                          "roster."), name=person.first_name)
    if await ctx.uow.volunteers.approved(person.id, team.id) is not None:
        raise Conflict(N_("{name} is already a member of team {team}."), name=person.first_name, team=team.name)
    volunteer = await ctx.uow.volunteers.add(
        person.id, team.id, **registration.membership_columns(registration.profile_of(mine)))
    await ctx.uow.volunteers.decide(volunteer.id, True)
    await roles.refresh_menu(ctx, person)
    await ctx.tell(person, N_("The centre added you to team {team}. You can now take its requests in the "
                               "team group."), team=team.name)
    await ctx.tell(ctx.user, N_("{name} is now a member of team {team}."), name=person.first_name,
                    team=team.name)
    await ctx.uow.commit()


async def overview(ctx: ServiceContext, code: str | None, reply_chat_id: int | None = None, *, page: int = 0,
                   row: int | None = None) -> None:
    """``/team`` with no code: a coordinator's list of teams, or a leader's own team(s); with a
    code: that team's members by sub-team. Privately, a page at a time (``row``: the list message
    whose ``page`` to show)."""
    if code is None and ctx.is_coordinator:
        where = await _list_target(ctx, reply_chat_id, page, row)
        if where is not None:
            await ctx.tell.lists.teams(where, ctx.user, await ctx.uow.teams.every())
        await ctx.uow.commit()
        return
    if code is None:
        led = await ctx.uow.teams.led_by(ctx.user.id)
        if not led:
            raise NotAllowed(N_("Only a coordinator or a team leader can do this."))
    else:
        led = [await _managed(ctx, code)]
    where = await _list_target(ctx, reply_chat_id, page, row)
    if where is not None:
        for team in led:
            await _show(ctx, team, where)
    await ctx.uow.commit()


async def _list_target(ctx: ServiceContext, reply_chat_id: int | None, page: int, row: int | None) -> Listing | None:
    return await privately.list_target(ctx, reply_chat_id) if row is None \
        else Listing(ctx.user.telegram_id, page, row)


async def _show(ctx: ServiceContext, team: Team, where: Listing) -> None:
    members = await ctx.uow.volunteers.members(team.id)
    subteams = [(s.name, s.skill, [v.name for v in members if s.skill in v.skills])
                for s in await ctx.uow.teams.subteams(team.id)]
    await ctx.tell.lists.team(where, ctx.user, team, [(v.name, v.is_leader) for v in members],
                               subteams, _link(ctx, team))


def _link(ctx: ServiceContext, team: Team) -> str | None:
    return start_link(ctx.bot_username, TEAM, team.code) if ctx.bot_username else None


async def send_link(ctx: ServiceContext, code: str, reply_chat_id: int) -> None:
    """The team's join link as text and as a QR code (for posters and the team group)."""
    team = await _managed(ctx, code)
    if not team.active:
        raise Conflict(N_("Team {team} is archived."), team=team.name)
    link = _link(ctx, team)
    if link is None:
        raise Conflict(N_("I do not know my own username yet; try again in a moment."))
    await ctx.tell.send_file(reply_chat_id, ctx.user, N_("Join team {name}: scan the code or open {link}"),
                              QrCode(link, f"team-{team.code}.png"), link=link, name=team.name)
    await ctx.uow.commit()


async def join_through_link(ctx: ServiceContext, code: str) -> None:
    """``/start team_<code>``: registration with the team already chosen."""
    team = await ctx.uow.teams.by_code(code)
    if team is None or not team.active:
        raise NotFound(N_("This link is not valid any more. Tap New request when you need help."))
    await registration.begin_join(ctx, team)


async def member_left_group(ctx: ServiceContext, chat_id: int, person_telegram_id: int, first_name: str) -> None:
    """Someone left (or was removed from) a team's group: if they are an approved member, the
    team's leaders are told (the coordinators when the team has none)."""
    team = await ctx.uow.teams.by_chat(chat_id)
    person = await ctx.uow.users.by_telegram_id(person_telegram_id)
    if team is None or person is None or await ctx.uow.volunteers.approved(person.id, team.id) is None:
        await ctx.uow.commit()
        return
    message = N_("{name}, an approved member of team {team}, has left the team's group and will not see its "
                 "requests there.")
    leaders = [leader for leader in await ctx.uow.volunteers.leaders(team.id) if leader.id != person.id]
    for leader in leaders:
        await ctx.tell(leader, message, name=first_name or person.first_name, team=team.name)
    if not leaders:
        await ctx.tell.centre.message(await ctx.centre(), message, name=first_name or person.first_name, team=team.name)
    await ctx.uow.commit()


async def list_businesses(ctx: ServiceContext, reply_chat_id: int | None = None, *, page: int = 0,
                          row: int | None = None) -> None:
    """Businesses of the service alliance and the requests each completed (privately)."""
    ctx.require_coordinator()
    where = await _list_target(ctx, reply_chat_id, page, row)
    if where is not None:
        found = await ctx.uow.volunteers.businesses(completed=OrderStatus.CLOSED)
        await ctx.tell.lists.businesses(where, ctx.user, found)
    await ctx.uow.commit()
