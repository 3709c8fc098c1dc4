"""Who may do what: the roles a person holds, and the command menu each role sees.

Roles are not stored as such; they follow from the data (``users.is_coordinator``, the admins in
the configuration, approved memberships and their ``is_leader`` and ``kind``, buildings' leaders),
so they can never disagree with the permission checks, which read the same data. Everyone is a
resident. When a person's roles (or language) change, their private chat gets its own command
menu (``BotCommandScopeChat``) through the outbox; ``users.menu_roles`` remembers what was set.
"""

from __future__ import annotations

from bot.domain.roles import (
    ADMIN,
    BUILDING_LEADER,
    BUSINESS,
    COORDINATOR,
    RESIDENT,
    ROLES,
    TEAM_LEADER,
    VOLUNTEER,
    menu_key,
)
from bot.i18n import N_, Translate
from bot.services.context import ServiceConfig, ServiceContext
from storage.models import User
from storage.uow import UnitOfWork

__all__ = ["ADMIN", "BUILDING_LEADER", "BUSINESS", "COORDINATOR", "RESIDENT", "ROLES", "TEAM_LEADER", "VOLUNTEER",
           "menu", "menu_key", "refresh_menu", "roles_of"]

# Each role's commands, in menu order; a person's menu is the union over their roles.
MENUS: dict[str, tuple[tuple[str, str], ...]] = {
    RESIDENT: (("request", N_("New request")), ("my", N_("My requests")), ("join", N_("Register as a volunteer")),
               ("language", N_("Language / 语言")), ("help", N_("Help")),
               ("mydata", N_("My data: what the bot keeps about me")), ("forget", N_("Erase my data"))),
    VOLUNTEER: (("profile", N_("My volunteer profile")), ("onduty", N_("On duty: receive requests")),
                ("offduty", N_("Off duty: pause requests")), ("quiet", N_("Quiet hours")),
                ("activities", N_("Activities: sign up, my activities")), ("points", N_("Use my points"))),
    BUSINESS: (("profile", N_("My volunteer profile")), ("onduty", N_("On duty: receive requests")),
               ("offduty", N_("Off duty: pause requests")), ("quiet", N_("Quiet hours")),
               ("activities", N_("Activities: sign up, my activities"))),
    TEAM_LEADER: (("team", N_("My team: members and join link")), ("teamhours", N_("My team's service hours")),
                  ("activities", N_("Activities: create, change, my activities")),
                  ("checkin", N_("Check-in at an activity: QR code and who came")),
                  ("report", N_("Reports: the rates of my team"))),
    BUILDING_LEADER: (("neighbour", N_("Request for a neighbour")), ("building", N_("My building: join link"))),
    COORDINATOR: (("orders", N_("Open requests")), ("dispatch", N_("Dispatch a request")),
                  ("routes", N_("Routing rules")),
                  ("find", N_("Find volunteers by skill")), ("team", N_("Teams")), ("building", N_("Buildings")),
                  ("businesses", N_("Businesses and their completed requests")),
                  ("roster", N_("Export the roster (send a file to import)")),
                  ("activities", N_("Activities: create, change, my activities")),
                  ("checkin", N_("Check-in at an activity: QR code and who came")),
                  ("hoursexport", N_("Export service hours for the registry")),
                  ("honour", N_("Add honour hours to a volunteer")), ("correct", N_("Correct an hours entry")),
                  ("ledger", N_("A volunteer's hours entries")),
                  ("certificate", N_("Issue a service-record certificate")),
                  ("report", N_("Reports: the rates by team, community and month")),
                  ("households", N_("Households of a building or community")),
                  ("stars", N_("Volunteer stars and the five-star team: approve")),
                  ("redemptions", N_("Points used at businesses, per business")),
                  ("history", N_("A request's history"))),
    ADMIN: (("coordinator", N_("Appoint or remove a coordinator")),),
}
MENU_ORDER = (RESIDENT, VOLUNTEER, BUSINESS, TEAM_LEADER, BUILDING_LEADER, COORDINATOR, ADMIN)


async def roles_of(uow: UnitOfWork, config: ServiceConfig, user: User) -> frozenset[str]:
    roles = {RESIDENT}
    if user.telegram_id in config.admins:
        roles.add(ADMIN)
    if user.is_coordinator:
        roles.add(COORDINATOR)
    for membership in await uow.volunteers.of_user(user.id):
        if membership.status == "approved":
            roles.add(BUSINESS if membership.kind == "business" else VOLUNTEER)
            if membership.is_leader:
                roles.add(TEAM_LEADER)
    if await uow.buildings.led_by(user.id):
        roles.add(BUILDING_LEADER)
    return frozenset(roles)


def menu(roles: frozenset[str], translate: Translate) -> list[dict[str, str]]:
    """The commands for a set of roles, each once, in the order of :data:`MENU_ORDER`."""
    commands: dict[str, str] = {}
    for role in MENU_ORDER:
        if role in roles:
            for command, description in MENUS[role]:
                commands.setdefault(command, translate(description))
    return [{"command": c, "description": d} for c, d in commands.items()]


async def refresh_menu(ctx: ServiceContext, person: User, *, announce: bool = True) -> None:
    """Give ``person``'s private chat the menu of their roles, if it is not the one set last, and
    (``announce``) the reply keyboard of those roles in a short message; without, the caller's own
    next message carries the keyboard (the views draw it from ``menu_roles``)."""
    roles = await roles_of(ctx.uow, ctx.config, person)
    language = person.language or ctx.config.default_language
    key = menu_key(roles, language)
    if person.menu_roles == key:
        return
    if not person.menu_roles and roles == {RESIDENT}:
        person.menu_roles = key  # the default private-chat menu (set at start-up) is already this
        return
    person.menu_roles = key
    await ctx.tell.commands(person, menu(roles, ctx.tell.tr(person)))
    if announce:
        await ctx.tell.resident.menu_changed(person)
