"""Creating an activity with buttons and short answers (the order of the questions is
:data:`bot.domain.activities.STEPS`). The draft lives in the ``dialogs`` table (flow ``activity``),
so a restart continues it at the same step; every button is checked against the step the dialog
waits at, so no tap can skip a question. Publishing writes the activity and posts its cards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain import activities as rules
from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.inputs import Input
from bot.i18n import N_
from bot.services import activities, attendance, dialog_rules
from bot.services.context import ServiceContext
from bot.views.activities import Shown
from storage.errors import AlreadyTaken
from storage.models import Activity, Team

FLOW = "activity"
TYPED = ("title", "start", "place", "capacity", "bring")
NOT_OPEN = N_("This activity draft is no longer open. Tap 📅 Activities to start again.")
OUT_OF_DATE = N_("This button is out of date.")
CODE_ATTEMPTS = 8


async def _teams(ctx: ServiceContext) -> list[Team]:
    """The teams the actor may create an activity for: every active one for a coordinator, else those
    they lead."""
    if ctx.is_coordinator:
        return list(await ctx.uow.teams.active())
    return list(await ctx.uow.teams.led_by(ctx.user.id))


async def begin(ctx: ServiceContext) -> None:
    """🆕 New activity: a leader of one team starts at the title; others choose the team first."""
    teams = await _teams(ctx)
    if not teams:
        raise NotAllowed(N_("Only a coordinator or a team leader can create an activity."))
    if len(teams) == 1:
        await _ask(ctx, {"team": teams[0].id, "also": []}, "title", begin=True)
    else:
        await _ask(ctx, {"also": []}, "team", begin=True)


async def _ask(ctx: ServiceContext, draft: dict[str, Any], step: str, *, begin: bool = False) -> None:
    if begin:
        await dialog_rules.begin_from_button(ctx, FLOW, step, draft)
    else:
        await ctx.uow.dialogs.set(ctx.user.id, FLOW, step, draft)
    if step == "summary":
        await ctx.tell.activities.summary(ctx.user, await _preview(ctx, draft), await _others(ctx, draft),
                                          draft.get("also", []))
    else:
        await ctx.tell.activities.ask(ctx.user, step, teams=await _teams(ctx), categories=ctx.config.categories)
    await ctx.uow.commit()


async def _draft(ctx: ServiceContext, *at: str) -> dict[str, Any]:
    dialog = await ctx.uow.dialogs.get(ctx.user.id)
    if dialog is None or dialog.flow != FLOW:
        raise Conflict(NOT_OPEN)
    if dialog.step not in at:
        raise Conflict(OUT_OF_DATE)
    return dict(dialog.data)


def _next(step: str) -> str:
    return rules.STEPS[rules.STEPS.index(step) + 1]


async def choose_team(ctx: ServiceContext, team_id: int) -> None:
    draft = await _draft(ctx, "team")
    if team_id not in {team.id for team in await _teams(ctx)}:
        raise NotAllowed(N_("Only a coordinator or the team's leader can do this."))
    draft["team"] = team_id
    await _ask(ctx, draft, "title")


async def pick(ctx: ServiceContext, step: str, choice: str) -> None:
    """A button's answer to a step: the length, a number of places, nothing to bring, the deadline,
    the skill (or none)."""
    draft = await _draft(ctx, step)
    if step == "length" and choice in rules.LENGTH_HOURS:
        draft["hours"] = int(choice)
    elif step == "capacity":
        draft["capacity"] = rules.capacity(choice)
    elif step == "bring" and choice == rules.NONE:
        draft["bring"] = ""
    elif step == "deadline" and choice in rules.DEADLINE_HOURS:
        draft["deadline_hours"] = int(choice)
    elif step == "skill" and (choice == rules.NONE or choice in ctx.config.categories):
        draft["skill"] = None if choice == rules.NONE else choice
    else:
        raise InvalidInput(N_("Please choose one of the buttons."))
    await _ask(ctx, draft, _next(step))


async def handle_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """A typed answer to the step the dialog waits at."""
    if step not in TYPED or not inp.text:
        raise InvalidInput(N_("Please choose one of the buttons."))
    draft = dict(data)
    if step == "title":
        draft["title"] = rules.title(inp.text)
    elif step == "start":
        draft["start"] = rules.start(inp.text, ctx.now, ctx.config.timezone).isoformat()
    elif step == "place":
        draft["place"] = rules.place(inp.text)
    elif step == "capacity":
        draft["capacity"] = rules.capacity(inp.text)
    else:
        draft["bring"] = rules.bring(inp.text)
    await _ask(ctx, draft, _next(step))


async def change_input(ctx: ServiceContext, step: str, data: dict[str, Any], inp: Input) -> None:
    """A leader's typed new value (flow ``activity_change``, the step is the field)."""
    if not inp.text:
        raise InvalidInput(N_("Please type the new value."))
    await activities.change_input(ctx, step, data, inp.text)


def _build(ctx: ServiceContext, draft: dict[str, Any]) -> dict[str, Any]:
    """The activity's columns from a finished draft, its times checked together."""
    starts_at = dt.datetime.fromisoformat(draft["start"])
    ends_at = starts_at + dt.timedelta(hours=int(draft["hours"]))
    deadline = rules.deadline(starts_at, int(draft["deadline_hours"]), ctx.now)
    rules.times(starts_at, ends_at, deadline, ctx.now)
    return {"team_id": int(draft["team"]), "title": draft["title"], "place": draft["place"], "starts_at": starts_at,
            "ends_at": ends_at, "capacity": int(draft["capacity"]), "bring": draft.get("bring", ""),
            "signup_deadline": deadline, "skill": draft.get("skill")}


async def _preview(ctx: ServiceContext, draft: dict[str, Any]) -> Shown:
    team = await ctx.uow.teams.get(int(draft["team"]))
    columns = _build(ctx, draft)
    return Shown(Activity(status=rules.OPEN, taken=0, code="", **columns), team.name if team else "—", 0,
                 ctx.config.timezone)


async def _others(ctx: ServiceContext, draft: dict[str, Any]) -> list[Team]:
    """Other active teams with a group, which the activity may be announced to as well."""
    return [t for t in await ctx.uow.teams.active() if t.id != int(draft["team"]) and t.chat_id is not None]


async def toggle_also(ctx: ServiceContext, team_id: int) -> None:
    draft = await _draft(ctx, "summary")
    if team_id not in {t.id for t in await _others(ctx, draft)}:
        raise Conflict(OUT_OF_DATE)
    also = list(draft.get("also", []))
    draft["also"] = [t for t in also if t != team_id] if team_id in also else [*also, team_id]
    await _ask(ctx, draft, "summary")


async def abort(ctx: ServiceContext) -> str:
    """✖️ Stop: end the activity dialog (a draft or a change); another flow's draft stays."""
    await dialog_rules.close(ctx, FLOW)
    await dialog_rules.close(ctx, activities.CHANGE_FLOW)
    await ctx.uow.commit()
    return ctx.tell.tr(ctx.user)(N_("Stopped. Nothing was changed."))


async def publish(ctx: ServiceContext) -> None:
    """📣 Publish: the activity is written with a fresh check-in code, its card posted in its team's
    group and the others chosen; the creator gets the code and the buttons to change or cancel it."""
    draft = await _draft(ctx, "summary")
    if draft.get("team") not in {team.id for team in await _teams(ctx)}:
        raise NotAllowed(N_("Only a coordinator or the team's leader can do this."))
    columns = _build(ctx, draft)
    if not await ctx.uow.dialogs.finish(ctx.user.id, FLOW, "summary"):
        raise Conflict(OUT_OF_DATE)
    activity = await _insert(ctx, columns, draft)
    await attendance.schedule_end(ctx.uow, activity)  # checks out whoever is still there, records no-shows
    view = await activities.shown(ctx, activity)
    cards: dict[str, int] = {}
    for team_id in [activity.team_id, *(int(t) for t in draft.get("also", []))]:
        team = await ctx.uow.teams.get(team_id)
        if team is not None and team.active and team.chat_id is not None:
            cards[str(team.id)] = await ctx.tell.activities.post_card(team, view)
    activity.cards = cards
    await ctx.tell.activities.published(ctx.user, view, len(cards))
    await ctx.uow.commit()


async def _insert(ctx: ServiceContext, columns: dict[str, Any], draft: dict[str, Any]) -> Activity:
    for _attempt in range(CODE_ATTEMPTS):
        try:
            return await ctx.uow.activities.add(code=rules.new_code(), created_by=ctx.user.id,
                                                also_teams=[str(t) for t in draft.get("also", [])], **columns)
        except AlreadyTaken:
            continue
    raise Conflict(N_("Sorry, please tap Publish again."))
