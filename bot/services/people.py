"""People: first contact, language, coordinators, reachability, approvals, duty and the talent reserve."""

from __future__ import annotations

from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.i18n import LANGUAGES, N_
from bot.services import centre, privately, roles
from bot.services.context import ServiceContext
from bot.views import menu
from bot.views.lists import Listing
from storage.models import User


async def welcome(ctx: ServiceContext) -> None:
    """/start and /help: the greeting, and the command menu of the person's roles (an admin's role
    comes from the configuration, so /start is where a change there reaches their menu)."""
    await ctx.uow.dialogs.clear(ctx.user.id)
    await roles.refresh_menu(ctx, ctx.user, announce=False)
    await ctx.tell.resident.welcome(ctx.user)
    await ctx.uow.commit()


async def show_help(ctx: ServiceContext) -> None:
    """/help and the Help button: what this person can do, by role, with the keyboard to do it."""
    await roles.refresh_menu(ctx, ctx.user, announce=False)
    await ctx.tell.resident.help(ctx.user)
    await ctx.uow.commit()


async def more(ctx: ServiceContext) -> None:
    """The More button: the person's secondary actions, as inline buttons."""
    await roles.refresh_menu(ctx, ctx.user, announce=False)
    held = await roles.roles_of(ctx.uow, ctx.config, ctx.user)
    keys = menu.role_actions(held, ctx.user.on_duty)[1]
    if not keys:
        raise InvalidInput(N_("There is nothing more for you here; the buttons below are all you need."))
    await ctx.tell.resident.more(ctx.user, keys)
    await ctx.uow.commit()


async def offer_languages(ctx: ServiceContext) -> None:
    await ctx.tell.resident.language_choice(ctx.user)
    await ctx.uow.commit()


async def set_language(ctx: ServiceContext, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(N_("Please choose one of the buttons."))
    ctx.user.language = language
    await roles.refresh_menu(ctx, ctx.user, announce=False)
    await ctx.tell.resident.language_set(ctx.user)
    await ctx.uow.commit()


async def set_coordinator(ctx: ServiceContext, telegram_id: int, first_name: str, appoint: bool) -> User:
    """An admin appoints (or removes) a coordinator; a new one gets the cards of the requests waiting
    for dispatch."""
    ctx.require_admin()
    target = await ctx.uow.users.ensure(telegram_id, first_name)
    newly = appoint and not target.is_coordinator
    target.is_coordinator = appoint
    await ctx.uow.audit.record(ctx.user.id, "user", target.id, "coordinator_" + ("appointed" if appoint else "removed"))
    await roles.refresh_menu(ctx, target, announce=not appoint)
    if appoint:  # the news carries the new keyboard
        await ctx.tell(target, N_("You are now a coordinator. Tap 📥 Requests to dispatch to see open requests."),
                       markup=ctx.tell.resident.menu_keyboard(target))
    if newly:  # requests placed while nobody read the centre must not wait unseen
        await centre.show_waiting(ctx, target)
    await ctx.tell(ctx.user, N_("{name} is now a coordinator.") if appoint else
                    N_("{name} is no longer a coordinator."), name=target.first_name or str(telegram_id))
    await ctx.uow.commit()
    return target


async def reachability_changed(ctx: ServiceContext, reachable: bool) -> None:
    """The person blocked (or unblocked) the bot in their private chat."""
    changed = await ctx.uow.users.set_reachable(ctx.user.telegram_id, reachable)
    if changed and not reachable:
        await tell_if_volunteer_unreachable(ctx, ctx.user)
    await ctx.uow.commit()


async def tell_if_volunteer_unreachable(ctx: ServiceContext, user: User) -> None:
    """A volunteer the bot cannot write to any more cannot receive orders: the centre must know."""
    if any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(user.id)):
        await ctx.tell.centre.message(
            await ctx.centre(), N_("Volunteer {name} has blocked the bot and cannot receive requests."),
            name=user.first_name)


# -- the coordinators decide on a volunteer's membership (asked for with /join: services.registration) --
async def decide_volunteer(ctx: ServiceContext, volunteer_id: int, approve: bool) -> str:
    ctx.require_coordinator()
    volunteer = await ctx.uow.volunteers.get(volunteer_id)
    if volunteer is None:
        raise NotFound(N_("That registration was not found."))
    if not await ctx.uow.volunteers.decide(volunteer_id, approve):
        raise Conflict(N_("That registration was already decided."))
    await ctx.uow.audit.record(ctx.user.id, "volunteer", volunteer_id, "approved" if approve else "denied")
    team = await ctx.uow.teams.get(volunteer.team_id)
    person = await ctx.uow.users.get(volunteer.user_id) if volunteer.user_id is not None else None
    assert team is not None
    if person is None:
        pass  # imported from the roster, no Telegram account yet: nobody to tell
    elif approve:
        await roles.refresh_menu(ctx, person, announce=False)  # the welcome carries the new keyboard
        await ctx.tell(person, N_("Welcome to team {team}! You can now take its requests in the team group."),
                        team=team.name, markup=ctx.tell.resident.menu_keyboard(person))
    else:
        await ctx.tell(person, N_("Your request to join team {team} was not approved."), team=team.name)
    await ctx.tell.centre.message(
        await ctx.centre(), N_("{name} → team {team}: {decision} by {coordinator}."), name=volunteer.name,
        team=team.name, coordinator=ctx.user.first_name,
        decision=ctx.tell.group_tr()(N_("approved") if approve else N_("denied")))
    await ctx.uow.commit()
    return volunteer.name


async def offer_skills(ctx: ServiceContext) -> None:
    """The Find volunteers button: a coordinator picks the skill to find volunteers by."""
    ctx.require_coordinator()
    await ctx.tell.resident.skill_choice(ctx.user)
    await ctx.uow.commit()


# -- on duty and the talent reserve ---------------------------------------------------------------------
async def set_duty(ctx: ServiceContext, on_duty: bool) -> None:
    """/onduty and /offduty: only volunteers have a duty to be on or off."""
    if not any(v.status == "approved" for v in await ctx.uow.volunteers.of_user(ctx.user.id)):
        raise NotAllowed(N_("Only approved volunteers can pause or take requests; tap 🙋 Become a volunteer to "
                            "register."))
    await ctx.uow.users.set_on_duty(ctx.user.id, on_duty)
    ctx.user.on_duty = on_duty  # the keyboard below shows the other button
    await roles.refresh_menu(ctx, ctx.user, announce=False)
    await ctx.tell(ctx.user, N_("You are on duty: you will get requests and reminders.") if on_duty else
                    N_("You are off duty: nobody will be asked to reach you until you tap ✅ Take requests."),
                    markup=ctx.tell.resident.menu_keyboard(ctx.user))
    await ctx.uow.commit()


async def find_volunteers(ctx: ServiceContext, skill: str, community: str | None, reply_chat_id: int | None = None, *,
                          page: int = 0, row: int | None = None) -> None:
    """/find SKILL [COMMUNITY]: approved volunteers with that skill, on duty first (privately:
    the answer holds phone numbers), a page at a time."""
    ctx.require_coordinator()
    code = ctx.tell.skill_of(skill, ctx.config.categories)  # a code, or a skill's name in either language
    if code is None:
        raise InvalidInput(N_("Skills are: {known}."), known=ctx.tell.skill_names(ctx.user, ctx.config.categories))
    skill = code
    where = await privately.list_target(ctx, reply_chat_id) if row is None \
        else Listing(ctx.user.telegram_id, page, row)
    if where is not None:
        found = await ctx.uow.volunteers.find(skill, community, limit=None)
        await ctx.tell.lists.talent(where, ctx.user, skill, community, found)
    await ctx.uow.commit()
