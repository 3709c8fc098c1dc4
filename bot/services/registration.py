"""Volunteer registration (/join) and the volunteer's own profile (/profile).

/join asks one question at a time, everything by buttons except names:

    name (typed) → phone (the share-contact button, the person's own contact only) → community
    (buttons from the ``communities`` setting, else typed) → skills (several of the service
    categories) → occupation → hobbies (several, or none) → kind → the business's name (businesses
    only) → availability (several) → registry number (typed, or Skip) → team (skipped when a team
    link chose it) → the membership.

Every answer is stored in the ``dialogs`` row (flow ``join``) in the same transaction as the next
question, so a restart continues at the same step. A button belongs to one step: tapped at another
step it is refused. A multi-select question is one message whose ✅ marks are edited in place; the
dialog remembers its outbox row (``msg``).

The profile belongs to the person, not to a membership: it is copied to every team they are in
(the registry number, unique in the table, is kept on one membership only). Someone registered
already who sends /join is asked only for the team. /profile shows the profile with an edit button
per field; an edit (flow ``profile``) asks that one question again and shows the profile again.

A membership is pending until a coordinator approves it, or approved at once when the setting
``volunteers.approval_required`` is off (the coordinators are then only told).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.inputs import Input
from bot.domain.phones import normalise_phone
from bot.domain.profile import (
    AVAILABILITY,
    BUSINESS,
    EDITABLE,
    HOBBIES,
    KINDS,
    MULTI_SELECT,
    OCCUPATIONS,
    STEPS,
)
from bot.i18n import N_
from bot.services import dialog_rules, roles
from bot.services.context import ServiceContext
from bot.services.roster import normalise_registry_number
from storage.errors import AlreadyTaken
from storage.models import Team, Volunteer

FLOW = "join"
PROFILE_FLOW = "profile"
NAME_LIMIT, COMMUNITY_LIMIT, ORGANISATION_LIMIT = 64, 64, 128
OUT_OF_STEP = N_("That button belongs to an earlier question. Please answer the last question.")
NOT_JOINING = N_("Tap 🙋 Become a volunteer to register.")
REGISTRY_TAKEN = N_("That registry number belongs to another volunteer on our list. If it is yours, please ask a "
                    "coordinator.")


# -- /join ------------------------------------------------------------------------------------------------
async def begin_join(ctx: ServiceContext, team: Team | None = None) -> None:
    """Start registering; ``team`` (from a team's join link) is then chosen already.

    Someone with a profile already (a membership of any team) is asked only for the team."""
    if team is not None:
        if not team.active:
            raise NotFound(N_("There is no team {team}."), team=team.name)
        if await ctx.uow.volunteers.approved(ctx.user.id, team.id) is not None:
            await ctx.tell(ctx.user, N_("You are already a member of team {team}."), team=team.name)
            await ctx.uow.commit()
            return
    elif not await ctx.uow.teams.active():
        raise Conflict(N_("There are no teams to join yet."))
    mine = await _memberships(ctx)
    if not mine:
        draft: dict[str, Any] = {"team_id": team.id} if team is not None else {}
        await _ask(ctx, FLOW, "name", draft)
        await ctx.uow.commit()
        return
    draft = profile_of(mine)
    if team is not None:
        await _join_team(ctx, draft, team)
        return
    if not await _open_teams(ctx, mine):
        raise Conflict(N_("You have asked to join every team already."))
    await ctx.tell(ctx.user, N_("You are registered already; your profile stays as it is (see /profile)."))
    await _ask(ctx, FLOW, "team", draft)
    await ctx.uow.commit()


async def join_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """Typed text or a contact while the /join dialog waits at ``step``."""
    await _typed(ctx, FLOW, step, dict(data), inp)


async def profile_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """Typed text or a contact while a profile edit waits at ``step``."""
    await _typed(ctx, PROFILE_FLOW, step, dict(data), inp)


async def _typed(ctx: ServiceContext, flow: str, step: str, draft: dict[str, Any], inp: Input) -> None:
    if step == "name":
        draft["name"] = _text(inp, NAME_LIMIT, N_("Please type your name (up to 64 characters)."))
    elif step == "phone":
        draft["phone"] = _own_phone(inp)
    elif step == "community" and not ctx.config.communities:
        draft["community"] = _text(inp, COMMUNITY_LIMIT, N_("Please type the name of your community (up to 64 "
                                                            "characters)."))
    elif step == "organisation":
        draft["organisation"] = _text(inp, ORGANISATION_LIMIT, N_("Please type the name of the business (up to "
                                                                  "128 characters)."))
    elif step == "registry":
        draft["registry"] = await _registry_number(ctx, inp)
    else:
        raise InvalidInput(N_("Please answer with the buttons above."))
    await _answered(ctx, flow, step, draft)


def _text(inp: Input, limit: int, message: str) -> str:
    text = " ".join((inp.text or "").split())
    if not text or len(text) > limit:
        raise InvalidInput(message)
    return text


def _own_phone(inp: Input) -> str:
    """Only the share-contact button: a typed number or a forwarded contact could be anyone's."""
    if inp.contact_phone is None:
        raise InvalidInput(N_("Please use the button below to share your phone number; a typed number cannot be "
                              "accepted."))
    if not inp.contact_own:
        raise InvalidInput(N_("That is someone else's contact. Please share your own number with the button below."))
    return normalise_phone(inp.contact_phone)


async def _registry_number(ctx: ServiceContext, inp: Input) -> str:
    try:
        number = normalise_registry_number(inp.text or "")
    except ValueError:
        raise InvalidInput(N_("That is not a volunteer registry number (6–32 letters and digits, at least 4 of them "
                              "digits). Please type it again, or tap Skip.")) from None
    holder = await ctx.uow.volunteers.by_registry_number(number)
    if holder is not None and holder.user_id != ctx.user.id:
        raise Conflict(REGISTRY_TAKEN)
    return number


async def pick(ctx: ServiceContext, step: str, value: str) -> None:
    """A button of a step: a single choice answers it, a multi-select choice is toggled."""
    flow, draft = await _at_step(ctx, step)
    if step in MULTI_SELECT:
        if value not in _catalogue(ctx, step):
            raise InvalidInput(N_("Please choose one of the buttons."))
        chosen = list(draft.get(step) or [])
        draft[step] = [c for c in chosen if c != value] if value in chosen else [*chosen, value]
        draft["msg"] = await ctx.tell.joining.toggled(ctx.user, step, draft, editing=flow == PROFILE_FLOW)
        await ctx.uow.dialogs.set(ctx.user.id, flow, step, draft)
        await ctx.uow.commit()
        return
    if step == "community" and ctx.config.communities:
        index = int(value) if value.isdecimal() and value.isascii() else -1
        if not 0 <= index < len(ctx.config.communities):
            raise InvalidInput(N_("Please choose one of the buttons."))
        draft["community"] = ctx.config.communities[index]
    elif step in ("occupation", "kind") and value in _catalogue(ctx, step):
        draft[step] = value
    else:
        raise InvalidInput(N_("Please choose one of the buttons."))
    await _answered(ctx, flow, step, draft)


async def done(ctx: ServiceContext, step: str) -> None:
    """Done with a multi-select step, or Skip the registry number."""
    flow, draft = await _at_step(ctx, step)
    if step in ("skills", "availability") and not draft.get(step):
        raise InvalidInput(N_("Please choose at least one, then tap Done."))
    if step == "registry":
        draft.setdefault("registry", None)  # joining: none; editing: the number stays as it is
    elif step not in MULTI_SELECT:
        raise InvalidInput(N_("Please choose one of the buttons."))
    await _answered(ctx, flow, step, draft)


async def choose_team(ctx: ServiceContext, team_id: int) -> None:
    """The last step: the team."""
    _flow, draft = await _at_step(ctx, "team")
    team = await ctx.uow.teams.get(team_id)
    if team is None or not team.active:
        raise NotFound(N_("There is no team {team}."), team=team_id)
    await _join_team(ctx, draft, team)


async def _at_step(ctx: ServiceContext, step: str) -> tuple[str, dict[str, Any]]:
    """The open registration or profile dialog, if it waits for ``step``."""
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow not in (FLOW, PROFILE_FLOW):
        raise Conflict(NOT_JOINING)
    if dialog.step != step or (step == "team" and dialog.flow != FLOW):
        raise Conflict(OUT_OF_STEP)
    return dialog.flow, dict(dialog.data)


def _catalogue(ctx: ServiceContext, step: str) -> Sequence[str]:
    return {"skills": ctx.config.categories, "hobbies": tuple(HOBBIES), "availability": tuple(AVAILABILITY),
            "occupation": tuple(OCCUPATIONS), "kind": tuple(KINDS)}.get(step, ())


async def _answered(ctx: ServiceContext, flow: str, step: str, draft: dict[str, Any]) -> None:
    """``step`` is answered: ask the next question, or finish (the membership, or the profile edit)."""
    if flow == FLOW:
        following = _next_step(draft, step)
    else:  # a profile edit asks one question, and the business's name of someone who became a business
        new_business = step == "kind" and draft.get("kind") == BUSINESS and not draft.get("organisation")
        following = "organisation" if new_business else None
    if following is not None:
        await _ask(ctx, flow, following, draft)
        await ctx.uow.commit()
    elif flow == PROFILE_FLOW:
        await _save_profile(ctx, draft)
        await ctx.uow.dialogs.clear(ctx.user.id)
        await _show_profile(ctx)
        await ctx.uow.commit()
    else:
        team = await ctx.uow.teams.get(int(draft["team_id"]))
        if team is not None and team.active:
            await _join_team(ctx, draft, team)
            return
        del draft["team_id"]  # the team of the link was archived meanwhile: the person chooses one
        await _ask(ctx, FLOW, "team", draft)
        await ctx.uow.commit()


def _next_step(draft: dict[str, Any], step: str) -> str | None:
    for following in STEPS[STEPS.index(step) + 1:]:
        if following == "organisation" and draft.get("kind") != BUSINESS:
            continue
        if following == "team" and draft.get("team_id"):
            continue
        return following
    return None


async def _ask(ctx: ServiceContext, flow: str, step: str, draft: dict[str, Any]) -> None:
    """Store the dialog at ``step`` and ask its question (multi-select: remember the message)."""
    teams = await _open_teams(ctx, await _memberships(ctx)) if step == "team" else ()
    draft = {k: v for k, v in draft.items() if k != "msg"}
    message = await ctx.tell.joining.question(ctx.user, step, draft, teams=teams, editing=flow == PROFILE_FLOW)
    if step in MULTI_SELECT:
        draft["msg"] = message
    await ctx.uow.dialogs.set(ctx.user.id, flow, step, draft)


async def _join_team(ctx: ServiceContext, draft: dict[str, Any], team: Team) -> None:
    """Create (or renew) the membership from the finished answers and tell whom it concerns."""
    mine = await _memberships(ctx)
    columns = membership_columns(draft)
    holds_number = any(v.registry_number for v in mine)
    asked_before = any(v.team_id == team.id and v.status == "pending" for v in mine)
    try:
        volunteer = await ctx.uow.volunteers.add(ctx.user.id, team.id, registry_number=None if holds_number else
                                                  draft.get("registry"), **columns)
    except AlreadyTaken:  # the number was registered by someone else since it was checked
        raise Conflict(REGISTRY_TAKEN) from None
    await ctx.uow.volunteers.update_profile(ctx.user.id, **columns)  # one profile for all memberships
    await ctx.uow.dialogs.clear(ctx.user.id)
    profile = {**draft, "registry": volunteer.registry_number or next(
        (v.registry_number for v in mine if v.registry_number), None)}
    if volunteer.status == "approved":  # a roster entry claimed, or a member already
        await roles.refresh_menu(ctx, ctx.user, announce=False)  # the answer carries the keyboard
        await ctx.tell(ctx.user, N_("You are already a member of team {team}."), team=team.name,
                        markup=ctx.tell.resident.menu_keyboard(ctx.user))
    elif ctx.config.approval_required:
        await ctx.tell(ctx.user, N_("Thank you! A coordinator will confirm your membership of team {team}."),
                        team=team.name, markup=ctx.tell.resident.menu_keyboard(ctx.user))
        if not asked_before:  # the coordinators have its card already
            await ctx.tell.centre.join_application(await ctx.centre(), volunteer.id, profile, team, approved=False)
    else:
        await ctx.uow.volunteers.decide(volunteer.id, True)
        await ctx.uow.audit.record(None, "volunteer", volunteer.id, "approved", automatic=True)  # no approval needed
        await roles.refresh_menu(ctx, ctx.user, announce=False)  # the welcome carries the keyboard
        await ctx.tell(ctx.user, N_("Welcome to team {team}! You can now take its requests in the team "
                                      "group."), team=team.name, markup=ctx.tell.resident.menu_keyboard(ctx.user))
        await ctx.tell.centre.join_application(await ctx.centre(), volunteer.id, profile, team, approved=True)
    await ctx.uow.commit()


def membership_columns(draft: dict[str, Any]) -> dict[str, Any]:
    """The Volunteer columns of a finished set of answers (a dialog from before the profile had
    only name and phone: the rest keeps its defaults)."""
    kind = draft.get("kind") or "resident"
    return {"name": draft["name"], "phone": draft["phone"], "community": draft.get("community", ""),
            "skills": list(draft.get("skills") or []), "occupation": draft.get("occupation", ""),
            "hobbies": ",".join(draft.get("hobbies") or []), "kind": kind,
            "organisation": draft.get("organisation", "") if kind == BUSINESS else "",
            "availability": list(draft["availability"]) if draft.get("availability") else None}


async def _memberships(ctx: ServiceContext) -> list[Volunteer]:
    return sorted(await ctx.uow.volunteers.of_user(ctx.user.id), key=lambda v: v.id)


async def _open_teams(ctx: ServiceContext, mine: Sequence[Volunteer]) -> list[Team]:
    """Active teams the person is not a member of and has not asked to join."""
    taken = {v.team_id for v in mine if v.status in ("pending", "approved")}
    return [t for t in await ctx.uow.teams.active() if t.id not in taken]


# -- /profile -----------------------------------------------------------------------------------------------
def profile_of(memberships: Sequence[Volunteer]) -> dict[str, Any]:
    """The person's profile (the keys of the /join answers) from their memberships: the newest
    membership's answers, and the registry number wherever it is kept."""
    latest = max(memberships, key=lambda v: v.id)
    return {"name": latest.name, "phone": latest.phone, "community": latest.community,
            "skills": list(latest.skills or []), "occupation": latest.occupation,
            "hobbies": [h for h in latest.hobbies.split(",") if h], "kind": latest.kind,
            "organisation": latest.organisation, "availability": list(latest.availability or []),
            "registry": next((v.registry_number for v in sorted(memberships, key=lambda v: v.id)
                              if v.registry_number), None)}


async def show_profile(ctx: ServiceContext) -> None:
    """/profile: the profile with an edit button per field (or the way to /join)."""
    await _show_profile(ctx)
    await ctx.uow.commit()


async def _show_profile(ctx: ServiceContext) -> None:
    mine = await _memberships(ctx)
    if not mine:
        await ctx.tell(ctx.user, N_("You are not registered as a volunteer yet. "
                                    "Tap 🙋 Become a volunteer to register."))
        return
    teams: list[tuple[str, str]] = []
    for membership in mine:
        team = await ctx.uow.teams.get(membership.team_id)
        teams.append((team.name if team is not None else str(membership.team_id), membership.status))
    await ctx.tell.joining.profile(ctx.user, profile_of(mine), teams)


async def edit_profile(ctx: ServiceContext, field: str) -> None:
    """Ask one question of the profile again; the answer goes to every membership."""
    mine = await _memberships(ctx)
    if not mine:
        raise Conflict(NOT_JOINING)
    draft = profile_of(mine)
    if field not in EDITABLE or (field == "organisation" and draft["kind"] != BUSINESS):
        raise InvalidInput(N_("Please choose one of the buttons."))
    await dialog_rules.refuse_if_busy(ctx, PROFILE_FLOW)
    await _ask(ctx, PROFILE_FLOW, field, draft)
    await ctx.uow.commit()


async def _save_profile(ctx: ServiceContext, draft: dict[str, Any]) -> None:
    mine = await _memberships(ctx)
    if not mine:  # every membership went while the question was open
        raise Conflict(NOT_JOINING)
    await ctx.uow.volunteers.update_profile(ctx.user.id, **membership_columns(draft))
    number = draft.get("registry")
    holder = next((v for v in mine if v.registry_number), mine[0])
    if number and holder.registry_number != number:
        holder.registry_number = number
        try:
            await ctx.uow.flush()
        except AlreadyTaken:  # taken by someone else since it was checked
            raise Conflict(REGISTRY_TAKEN) from None
