"""People and teams: first contact, language, coordinators, teams and their groups, volunteers."""

from __future__ import annotations

import re

from storage.models import Team, User

from ..i18n import LANGUAGES, N_
from .call import Call
from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .inputs import Input
from .phones import normalise_phone

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


async def welcome(call: Call) -> None:
    await call.uow.dialogs.clear(call.user.id)
    await call.notify.welcome(call.user)
    await call.uow.commit()


async def offer_languages(call: Call) -> None:
    await call.notify.language_choice(call.user)
    await call.uow.commit()


async def set_language(call: Call, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput(N_("Please choose one of the buttons."))
    call.user.language = language
    await call.notify.language_set(call.user)
    await call.uow.commit()


async def set_coordinator(call: Call, telegram_id: int, first_name: str, appoint: bool) -> User:
    """An admin appoints (or removes) a coordinator."""
    call.require_admin()
    target = await call.uow.users.ensure(telegram_id, first_name)
    target.is_coordinator = appoint
    if appoint:
        await call.notify.tell(target, N_("You are now a coordinator. Use /orders to see open requests."))
    await call.notify.tell(call.user, N_("{name} is now a coordinator.") if appoint else
                           N_("{name} is no longer a coordinator."), name=target.first_name or str(telegram_id))
    await call.uow.commit()
    return target


async def add_team(call: Call, code: str, name: str, categories: list[str], reply_chat_id: int) -> Team:
    call.require_coordinator()
    code = code.lower()
    if not _CODE.match(code):
        raise InvalidInput(N_("A team code is 2–32 lowercase letters, digits or _ (e.g. repair_1)."))
    unknown = [c for c in categories if c not in call.config.categories]
    if not categories or unknown:
        raise InvalidInput(N_("Categories must be some of: {known}."), known=", ".join(call.config.categories))
    if await call.uow.teams.by_code(code) is not None:
        raise Conflict(N_("Team {code} already exists."), code=code)
    team = await call.uow.teams.add(code, name[:128], categories)
    await call.notify.send(reply_chat_id, call.notify.tr(call.user)(
        N_("Team {name} ({code}) created for: {categories}. Add me to its group and send /link {code} there."),
        name=team.name, code=code, categories=", ".join(categories)), recipient=None)
    await call.uow.commit()
    return team


async def link_group(call: Call, code: str, chat_id: int) -> Team:
    """Bind a group chat to a team (a coordinator, in that group)."""
    call.require_coordinator()
    team = await call.uow.teams.by_code(code)
    if team is None:
        raise NotFound(N_("There is no team {team}."), team=code)
    await call.uow.teams.bind_chat(team.id, chat_id)
    _ = call.notify.group_tr()
    await call.notify.send(chat_id, _("This group is now the group of team <b>{team}</b>. Requests for it will "
                                      "appear here; members who have joined the team can take them.",
                                      team=team.name))
    await call.uow.commit()
    return team


async def bot_added_to_group(call: Call, chat_id: int) -> None:
    _ = call.notify.group_tr()
    team = await call.uow.teams.by_chat(chat_id)
    if team is None:
        await call.notify.send(chat_id, _("Hello! A coordinator can bind this group to a team by sending "
                                          "/link &lt;team code&gt; here."))
    await call.uow.commit()


async def bot_removed_from_group(call: Call, chat_id: int) -> None:
    team = await call.uow.teams.unbind_chat(chat_id)
    if team is not None:
        await call.notify.to_coordinators(N_("I was removed from the group of team {team}; its requests cannot be "
                                             "posted until a group is linked again."), team=team.name)
    await call.uow.commit()


async def group_migrated(call: Call, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its team and any unsent messages follow the new id."""
    await call.uow.teams.move_chat(old_chat_id, new_chat_id)
    await call.uow.outbox.move_chat(old_chat_id, new_chat_id)
    await call.uow.commit()


async def reachability_changed(call: Call, reachable: bool) -> None:
    """The person blocked (or unblocked) the bot in their private chat."""
    changed = await call.uow.users.set_reachable(call.user.telegram_id, reachable)
    if changed and not reachable:
        await tell_if_volunteer_unreachable(call, call.user)
    await call.uow.commit()


async def tell_if_volunteer_unreachable(call: Call, user: User) -> None:
    """A volunteer the bot cannot write to any more cannot receive orders: the centre must know."""
    if any(v.status == "approved" for v in await call.uow.volunteers.of_user(user.id)):
        await call.notify.to_coordinators(N_("Volunteer {name} has blocked the bot and cannot receive requests."),
                                          name=user.first_name)


# -- volunteer registration (/join): name → phone → team --------------------------------------------
async def begin_join(call: Call) -> None:
    if not await call.uow.teams.active():
        raise Conflict(N_("There are no teams to join yet."))
    await call.uow.dialogs.set(call.user.id, "join", "name", {})
    await call.notify.tell(call.user, N_("Welcome! What is your full name?"), markup={"remove_keyboard": True})
    await call.uow.commit()


async def join_input(call: Call, step: str, data: dict[str, object], inp: Input) -> None:
    draft = dict(data)
    if step == "name":
        name = (inp.text or "").strip()
        if not name or len(name) > 64:
            raise InvalidInput(N_("Please type your name (up to 64 characters)."))
        draft["name"] = name
        await call.uow.dialogs.set(call.user.id, "join", "phone", draft)
        await call.notify.tell(call.user, N_("Please share your phone number with the button below."),
                               markup=call.notify.share_phone_keyboard(call.user))
    elif step == "phone":
        if not inp.contact_phone and not inp.text:
            raise InvalidInput(N_("Please share your phone number with the button below."))
        draft["phone"] = normalise_phone(inp.contact_phone or inp.text or "")
        await call.uow.dialogs.set(call.user.id, "join", "team", draft)
        await call.notify.join_teams(call.user, await call.uow.teams.active())
    else:
        await call.notify.join_teams(call.user, await call.uow.teams.active())
    await call.uow.commit()


async def choose_team(call: Call, team_id: int) -> None:
    dialog = await call.uow.dialogs.get(call.user.id)
    if dialog is None or dialog.flow != "join" or dialog.step != "team":
        raise Conflict(N_("Send /join to register as a volunteer."))
    team = await call.uow.teams.get(team_id)
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_id)
    volunteer = await call.uow.volunteers.add(call.user.id, team.id, str(dialog.data["name"]),
                                              str(dialog.data["phone"]))
    await call.uow.dialogs.clear(call.user.id)
    if volunteer.status == "approved":
        await call.notify.tell(call.user, N_("You are already a member of team {team}."), team=team.name)
    else:
        await call.notify.tell(call.user, N_("Thank you! A coordinator will confirm your membership of team {team}."),
                               team=team.name, markup=call.notify.menu_keyboard(call.user))
        await call.notify.volunteer_application(volunteer.name, team, volunteer.id)
    await call.uow.commit()


async def decide_volunteer(call: Call, volunteer_id: int, approve: bool) -> str:
    call.require_coordinator()
    volunteer = await call.uow.volunteers.get(volunteer_id)
    if volunteer is None:
        raise NotFound(N_("That registration was not found."))
    if not await call.uow.volunteers.decide(volunteer_id, approve):
        raise Conflict(N_("That registration was already decided."))
    team = await call.uow.teams.get(volunteer.team_id)
    person = await call.uow.users.get(volunteer.user_id) if volunteer.user_id is not None else None
    assert team is not None
    if person is None:
        pass  # imported from the roster, no Telegram account yet: nobody to tell
    elif approve:
        await call.notify.tell(person, N_("Welcome to team {team}! You can now take its requests in the team group."),
                               team=team.name)
    else:
        await call.notify.tell(person, N_("Your request to join team {team} was not approved."), team=team.name)
    await call.notify.to_coordinators(N_("{name} → team {team}: {decision} by {coordinator}."), name=volunteer.name,
                                      team=team.name, coordinator=call.user.first_name,
                                      decision=call.notify.group_tr()(N_("approved") if approve else N_("denied")))
    await call.uow.commit()
    return volunteer.name




# -- on duty and the talent reserve ---------------------------------------------------------------------
async def set_duty(call: Call, on_duty: bool) -> None:
    """/onduty and /offduty: only volunteers have a duty to be on or off."""
    if not any(v.status == "approved" for v in await call.uow.volunteers.of_user(call.user.id)):
        raise NotAllowed(N_("Only approved volunteers can go on or off duty; send /join to register."))
    await call.uow.users.set_on_duty(call.user.id, on_duty)
    await call.notify.tell(call.user, N_("You are on duty: you will get requests and reminders.") if on_duty else
                           N_("You are off duty: nobody will be asked to reach you until you send /onduty."))
    await call.uow.commit()


async def find_volunteers(call: Call, skill: str, community: str | None) -> None:
    """/find SKILL [COMMUNITY]: approved volunteers with that skill, on duty first (privately:
    the answer holds phone numbers)."""
    call.require_coordinator()
    skill = skill.lower()
    if skill not in call.config.categories:
        raise InvalidInput(N_("Skills are: {known}."), known=", ".join(call.config.categories))
    found = await call.uow.volunteers.find(skill, community)
    await call.notify.talent(call.user, skill, found)
    await call.uow.commit()
