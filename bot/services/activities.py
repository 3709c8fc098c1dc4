"""Team activities: a coordinator or team leader creates one (:mod:`bot.services.activity_dialog`),
it is announced as a live card in the team's group (and others chosen), volunteers sign up first
come first served, then wait their turn; a freed place goes to the head of the waitlist, who is
told. The leader may change or cancel it; everyone signed up or waiting is told.

Places are settled by the database (:class:`storage.activities.ActivityRepository`); this room
checks who may act, keeps the reminders (``activity_reminder`` rows, one per person and hour
before) in step with the places, and edits the cards after every change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.domain import activities as rules
from bot.domain.errors import Conflict, NotAllowed, NotFound
from bot.i18n import N_, P_
from bot.services import attendance, dialog_rules
from bot.services.context import ServiceContext
from bot.views.activities import Shown
from storage.models import Activity

REMINDER, QUOTA = "activity_reminder", "activity_quota"
CHANGE_FLOW = "activity_change"
GONE = N_("This activity no longer exists.")


# -- reading ------------------------------------------------------------------------------------------
async def activity_of(ctx: ServiceContext, activity_id: int) -> Activity:
    activity = await ctx.uow.activities.get(activity_id)
    if activity is None:
        raise NotFound(GONE)
    return activity


async def shown(ctx: ServiceContext, activity: Activity) -> Shown:
    team = await ctx.uow.teams.get(activity.team_id)
    return Shown(activity, team.name if team else "—", await ctx.uow.activities.waiting(activity.id),
                 ctx.config.timezone)


async def led_team_ids(ctx: ServiceContext) -> list[int]:
    return [team.id for team in await ctx.uow.teams.led_by(ctx.user.id)]


async def managed(ctx: ServiceContext, activity_id: int) -> Activity:
    """The activity, if the actor may change it (a coordinator, or a leader of its team)."""
    activity = await activity_of(ctx, activity_id)
    rules.require_manager(is_coordinator=ctx.is_coordinator, led_team_ids=await led_team_ids(ctx),
                          team_id=activity.team_id)
    if activity.status != rules.OPEN:
        raise Conflict(N_("This activity was cancelled."))
    return activity


async def refresh_cards(ctx: ServiceContext, activity: Activity) -> Shown:
    """Re-read the activity (the database changed it) and edit its cards."""
    fresh = await activity_of(ctx, activity.id)
    view = await shown(ctx, fresh)
    await ctx.tell.activities.edit_cards(view)
    return view


# -- reminders ----------------------------------------------------------------------------------------
async def write_reminders(ctx: ServiceContext, activity: Activity, user_id: int) -> None:
    """The reminders before the start for one person with a place (only those still to come)."""
    for hours in ctx.config.activities.reminder_hours:
        due = activity.starts_at - dt.timedelta(hours=hours)
        if due > ctx.now:
            await ctx.uow.schedule.add(REMINDER, due, activity_id=activity.id, user_id=user_id, step=hours)


async def _promote(ctx: ServiceContext, activity: Activity) -> None:
    """Free places to the waitlist's head, in turn; each promoted person is told and reminded."""
    for user_id in await ctx.uow.activities.promote(activity.id):
        person = await ctx.uow.users.get(user_id)
        await write_reminders(ctx, activity, user_id)
        if person is not None:
            await ctx.tell.activities.about(person, await shown(ctx, activity),
                                            N_("🎉 A place became free and it is yours: you are signed up!"),
                                            withdraw=True)


# -- volunteers ---------------------------------------------------------------------------------------
async def _skills(ctx: ServiceContext) -> tuple[bool, set[str]]:
    """Whether the actor is an approved volunteer, and their skills (their own and their teams')."""
    skills: set[str] = set()
    approved = [m for m in await ctx.uow.volunteers.of_user(ctx.user.id) if m.status == "approved"]
    for membership in approved:
        skills.update(membership.skills or [])
        team = await ctx.uow.teams.get(membership.team_id)
        skills.update(team.categories if team else [])
    return bool(approved), skills


async def sign_up(ctx: ServiceContext, activity_id: int) -> str:
    """Sign Up on a card: a place, or a turn on the waitlist; the answer to the tap."""
    activity = await activity_of(ctx, activity_id)
    volunteer, skills = await _skills(ctx)
    rules.require_may_join(status=activity.status, deadline_at=activity.signup_deadline, now=ctx.now,
                           volunteer=volunteer, skills=skills, skill=activity.skill)
    outcome = await ctx.uow.activities.sign_up(activity.id, ctx.user.id)
    _ = ctx.tell.tr(ctx.user)
    if outcome == "closed":
        raise Conflict(N_("This activity was cancelled."))
    if outcome in ("already_in", "already_waitlist"):
        await ctx.uow.commit()
        return _("You are already signed up.") if outcome == "already_in" else _("You are already on the waitlist.")
    view = await refresh_cards(ctx, activity)
    if outcome == "in":
        await write_reminders(ctx, activity, ctx.user.id)
        await ctx.tell.activities.about(ctx.user, view, N_("✅ You are signed up. Thank you!"), withdraw=True)
        answer = _("✅ You are signed up. Thank you!")
    else:
        await ctx.tell.activities.about(ctx.user, view, N_("⏳ All places are taken, so you are number {turn} on "
                                                           "the waitlist. If a place becomes free, it is yours "
                                                           "and we will tell you."), withdraw=True, turn=view.waiting)
        answer = _("⏳ You are on the waitlist (number {turn}).", turn=view.waiting)
    await ctx.uow.commit()
    return answer


async def withdraw(ctx: ServiceContext, activity_id: int) -> str:
    """The volunteer gives up their place (or turn), until the sign-up deadline."""
    activity = await activity_of(ctx, activity_id)
    rules.require_may_withdraw(status=activity.status, deadline_at=activity.signup_deadline, now=ctx.now)
    freed, view = await give_up(ctx, activity)
    if freed == "none":
        raise Conflict(N_("You are not signed up for this activity."))
    await ctx.tell.activities.about(ctx.user, view, N_("↩️ Your sign-up is cancelled. Thank you for letting us know."))
    await ctx.uow.commit()
    return ctx.tell.tr(ctx.user)("↩️ Your sign-up is cancelled. Thank you for letting us know.")


async def give_up(ctx: ServiceContext, activity: Activity) -> tuple[str, Shown]:
    """The actor's sign-up is cancelled (no commit): which it was (``none``: nothing to cancel), a
    freed place given to the waitlist's head, the cards refreshed. Also ``/forget``'s."""
    freed = await ctx.uow.activities.withdraw(activity.id, ctx.user.id)
    if freed == rules.IN:
        await ctx.uow.activities.cancel_reminders(activity.id, ctx.user.id, (REMINDER,))
        await _promote(ctx, activity)
    return freed, await refresh_cards(ctx, activity)


async def overview(ctx: ServiceContext) -> None:
    """📅 Activities: my upcoming sign-ups, and for leaders and coordinators what they manage."""
    mine = [(await shown(ctx, activity), status)
            for activity, status in await ctx.uow.activities.of_user(ctx.user.id, ctx.now)]
    led = await led_team_ids(ctx)
    can_create = ctx.is_coordinator or bool(led)
    managed_rows: Sequence[Activity] = ()
    if can_create:
        managed_rows = await ctx.uow.activities.upcoming(None if ctx.is_coordinator else led, ctx.now)
    await ctx.tell.activities.overview(ctx.user, mine, [await shown(ctx, a) for a in managed_rows], can_create)
    await ctx.uow.commit()


# -- the leader's changes -----------------------------------------------------------------------------
async def show_manage(ctx: ServiceContext, activity_id: int) -> None:
    activity = await managed(ctx, activity_id)
    await ctx.tell.activities.manage(ctx.user, await shown(ctx, activity))
    await ctx.uow.commit()


async def ask_change(ctx: ServiceContext, activity_id: int, field: str) -> None:
    if field not in rules.CHANGEABLE:
        raise NotAllowed(N_("Please choose one of the buttons."))
    await managed(ctx, activity_id)
    await dialog_rules.begin_from_button(ctx, CHANGE_FLOW, field, {"activity": activity_id})
    await ctx.tell.activities.ask_change(ctx.user, field)
    await ctx.uow.commit()


async def change_input(ctx: ServiceContext, field: str, data: dict[str, object], text: str) -> None:
    """The new value typed for ``field``: applied, everyone signed up or waiting told, the cards edited."""
    activity = await managed(ctx, int(str(data["activity"])))
    if field == "time":
        starts_at = rules.start(text, ctx.now, ctx.config.timezone)
        delta = starts_at - activity.starts_at
        deadline = min(activity.signup_deadline + delta, starts_at)
        ends_at = activity.ends_at + delta
        rules.times(starts_at, ends_at, deadline, ctx.now)
        await ctx.uow.activities.change(activity.id, starts_at=starts_at, ends_at=ends_at, signup_deadline=deadline)
        await ctx.uow.schedule.cancel_activity(activity.id, (REMINDER,))
        activity = await activity_of(ctx, activity.id)
        await attendance.schedule_end(ctx.uow, activity)
        for signup in await ctx.uow.activities.signups(activity.id, (rules.IN,)):
            await write_reminders(ctx, activity, signup.user_id)
    elif field == "place":
        await ctx.uow.activities.change(activity.id, place=rules.place(text))
    else:
        places = rules.capacity(text)
        if not await ctx.uow.activities.set_capacity(activity.id, places):
            raise Conflict(P_("{taken} volunteer already has a place, so there cannot be fewer places.",
                              "{taken} volunteers already have a place, so there cannot be fewer places.", "taken"),
                           taken=activity.taken)
        activity = await activity_of(ctx, activity.id)
        await _promote(ctx, activity)
    await ctx.uow.dialogs.clear(ctx.user.id)
    view = await refresh_cards(ctx, activity)
    for signup in await ctx.uow.activities.signups(activity.id):
        person = await ctx.uow.users.get(signup.user_id)
        if person is not None:
            await ctx.tell.activities.changed(person, view, field)
    await ctx.tell(ctx.user, N_("Done: everyone signed up has been told."))
    await ctx.uow.commit()


async def ask_cancel(ctx: ServiceContext, activity_id: int) -> None:
    activity = await managed(ctx, activity_id)
    await ctx.tell.activities.confirm_cancel(ctx.user, await shown(ctx, activity))
    await ctx.uow.commit()


async def cancel(ctx: ServiceContext, activity_id: int) -> None:
    """Cancel the activity: its reminders too, everyone signed up or waiting is told, the cards say so."""
    activity = await managed(ctx, activity_id)
    if not await ctx.uow.activities.cancel(activity.id):
        raise Conflict(N_("This activity was cancelled."))
    await ctx.uow.schedule.cancel_activity(activity.id, (REMINDER,))
    view = await refresh_cards(ctx, activity)
    for signup in await ctx.uow.activities.signups(activity.id):
        person = await ctx.uow.users.get(signup.user_id)
        if person is not None:
            await ctx.tell.activities.about(person, view, N_("❌ Sorry, this activity is cancelled."))
    await ctx.tell(ctx.user, N_("The activity is cancelled and everyone signed up has been told."))
    await ctx.uow.commit()
