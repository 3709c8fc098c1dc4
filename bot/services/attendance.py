"""Attendance at a team's activity: check-in on site by code or QR code, check-out, presence
marked by hand, no-shows, and the activity's hours in the ledger.

A leader (of the activity's team, or a coordinator) opens the check-in: the QR code of the deep
link ``…?start=act_<code>`` and the short code, then the list with a ✅ button per person. A
volunteer with a place scans it or sends the code during the window (from
:data:`~bot.domain.attendance.CHECKIN_OPENS_BEFORE` before the start to the end) and is checked in;
the code again (after :data:`REPEAT_GRACE`, so a double scan is not a goodbye) or the Check out
button checks them out, and their ledger entry is written in the same unit of work. A code alone
never gives a place: someone on the waiting list is let in by the leader's ✅; someone not signed
up is asked to sign up or see the leader.

At the end the schedule item ``activity_end`` (written by :func:`schedule_end`: when the activity
is made — the activities room calls it —, again, idempotently, when its check-in is first used, and
by the hourly watch :func:`watch_ends` for any open activity ending within the hour) finishes it:
whoever is still checked in is checked out at the end, every place never checked in is a no-show,
the status becomes ``finished`` and the leaders get a summary. Finishing is one conditional UPDATE
(``open`` → ``finished``), so the sweep and a leader's "Finish" never both do it.
"""

from __future__ import annotations

import datetime as dt

from bot.domain import attendance as rules
from bot.domain.errors import Conflict, NotAllowed, NotFound
from bot.domain.links import ACTIVITY, start_link
from bot.i18n import N_
from bot.services.context import ServiceContext
from storage.attendance import IN, PRESENT, WAITLIST
from storage.models import Activity, ActivitySignup, User
from storage.uow import UnitOfWork

ACTIVITY_END = "activity_end"
# Every hour: every open activity ending within the next hour gets its end item (a safety net for an
# activity whose check-in nobody opened and whose creation did not schedule its end).
ENDS_WATCH, WATCH_EVERY = "activity_ends", dt.timedelta(hours=1)
SOURCE = "activity"  # hours_entries.source
# The code (or QR code) again this soon after checking in is a double scan, not a check-out.
REPEAT_GRACE = dt.timedelta(minutes=5)


async def schedule_end(uow: UnitOfWork, activity: Activity) -> bool:
    """The item that finishes ``activity`` at its end, once per end time (keyed); True if this call
    wrote it. Called when an activity is published and when its time changes: an item of an earlier
    end time that fires first waits for the new end, one that fires after it finds it finished."""
    return await uow.schedule.add(ACTIVITY_END, activity.ends_at, activity_id=activity.id, team_id=activity.team_id,
                                  key=f"{ACTIVITY_END}:{activity.id}:{activity.ends_at:%Y%m%dT%H%M}")


async def watch_ends(uow: UnitOfWork, now: dt.datetime) -> int:
    """Schedule the end of every open activity ending by the next watch (and that watch, keyed by
    its hour, so processes and restarts make one); returns how many ends this scheduled."""
    scheduled = 0
    for activity in await uow.attendance.open_ending_by(now + WATCH_EVERY):
        scheduled += await schedule_end(uow, activity)
    following = (now + WATCH_EVERY).replace(minute=0, second=0, microsecond=0)
    await uow.schedule.add(ENDS_WATCH, following, key=f"{ENDS_WATCH}:{following:%Y-%m-%dT%H}")
    return scheduled


# -- the leader's side -----------------------------------------------------------------------------------
async def _activity(ctx: ServiceContext, activity_id: int) -> Activity:
    activity = await ctx.uow.activities.get(activity_id)
    if activity is None:
        raise NotFound(N_("This activity does not exist any more."))
    return activity


async def _led_team_ids(ctx: ServiceContext) -> list[int] | None:
    """The teams whose activities the actor runs (None: every team, a coordinator)."""
    return None if ctx.is_coordinator else [team.id for team in await ctx.uow.teams.led_by(ctx.user.id)]


async def _led(ctx: ServiceContext, activity_id: int) -> Activity:
    """The activity, if the actor is a coordinator or a leader of its team (never trusting the button)."""
    activity = await _activity(ctx, activity_id)
    teams = await _led_team_ids(ctx)
    if teams is not None and activity.team_id not in teams:
        raise NotAllowed(N_("Only a coordinator or a leader of the activity's team can do this."))
    return activity


def _still_open(activity: Activity) -> None:
    if activity.status == "cancelled":
        raise Conflict(N_("{title} was cancelled."), title=activity.title)
    if activity.status != "open":
        raise Conflict(N_("{title} has finished. Thank you!"), title=activity.title)


async def choose(ctx: ServiceContext) -> None:
    """``/checkin``: the check-in of the one activity on now, or a choice of those on today."""
    teams = await _led_team_ids(ctx)
    if teams == []:
        raise NotAllowed(N_("To check in at an activity, scan the QR code the team leader shows, or send me its "
                            "code."))
    found = await ctx.uow.attendance.current(ctx.now, dt.timedelta(hours=24), team_ids=teams)
    if not found:
        await ctx.tell(ctx.user, N_("No activity of your teams is on today. The check-in opens here on the day."))
    elif len(found) == 1:
        await _show(ctx, found[0])
    else:
        await ctx.tell.attendance.choose(ctx.user, found, ctx.config.timezone)
    await ctx.uow.commit()


async def show(ctx: ServiceContext, activity_id: int) -> None:
    """The check-in of one activity: its QR code and code, then who has come."""
    await _show(ctx, await _led(ctx, activity_id))
    await ctx.uow.commit()


async def _show(ctx: ServiceContext, activity: Activity) -> None:
    _still_open(activity)
    if not ctx.bot_username:
        raise Conflict(N_("I do not know my own username yet; try again in a moment."))
    await schedule_end(ctx.uow, activity)
    link = start_link(ctx.bot_username, ACTIVITY, activity.code)
    await ctx.tell.attendance.notice(ctx.user, activity, link, ctx.config.timezone)
    await ctx.tell.attendance.roll(ctx.user, activity, await ctx.uow.attendance.roll(activity.id),
                                   ctx.config.timezone)


async def show_list(ctx: ServiceContext, activity_id: int) -> None:
    activity = await _led(ctx, activity_id)
    await ctx.tell.attendance.roll(ctx.user, activity, await ctx.uow.attendance.roll(activity.id),
                                   ctx.config.timezone)
    await ctx.uow.commit()


async def mark_present(ctx: ServiceContext, signup_id: int) -> str:
    """A leader's ✅: the person is present from now (someone on the waiting list gets the place too)."""
    signup = await ctx.uow.attendance.get(signup_id)
    if signup is None:
        raise NotFound(N_("This activity does not exist any more."))
    activity = await _led(ctx, signup.activity_id)
    _still_open(activity)
    _window(ctx, activity)
    person = await ctx.uow.users.get(signup.user_id)
    assert person is not None
    if signup.status == WAITLIST:
        done = await ctx.uow.attendance.admit(activity.id, person.id, ctx.now, marked_by=ctx.user.id)
    else:
        done = await ctx.uow.attendance.check_in(activity.id, person.id, ctx.now, marked_by=ctx.user.id)
    if not done:
        raise Conflict(N_("{name} is already marked present."), name=person.first_name)
    await schedule_end(ctx.uow, activity)
    await ctx.tell.attendance.checked_in(person, activity, ctx.now, ctx.config.timezone, by_hand=True)
    await ctx.tell.attendance.roll(ctx.user, activity, await ctx.uow.attendance.roll(activity.id),
                                   ctx.config.timezone)
    await ctx.uow.commit()
    return ctx.tell.tr(ctx.user)(N_("✅ {name} is marked present."), name=person.first_name)


async def ask_finish(ctx: ServiceContext, activity_id: int) -> None:
    activity = await _led(ctx, activity_id)
    _still_open(activity)
    await ctx.tell.attendance.confirm_finish(ctx.user, activity)
    await ctx.uow.commit()


async def finish_now(ctx: ServiceContext, activity_id: int) -> None:
    """The leader ends it early (or on time): as at the end, but now."""
    activity = await _led(ctx, activity_id)
    _still_open(activity)
    if not await finish(ctx, activity, rules.checkout_moment(ctx.now, activity.ends_at)):
        raise Conflict(N_("{title} has finished. Thank you!"), title=activity.title)
    await ctx.uow.schedule.cancel_activity(activity.id, [ACTIVITY_END])
    await ctx.uow.commit()


# -- the volunteer's side --------------------------------------------------------------------------------
def _window(ctx: ServiceContext, activity: Activity) -> None:
    if rules.checkin_open(ctx.now, activity.starts_at, activity.ends_at):
        return
    if ctx.now < rules.window_opens(activity.starts_at):
        opens = rules.window_opens(activity.starts_at).astimezone(ctx.config.timezone)
        raise Conflict(N_("The check-in for {title} opens at {time}. Please come back then."), title=activity.title,
                       time=ctx.tell.moment(ctx.user, opens))
    raise Conflict(N_("The check-in for {title} has closed."), title=activity.title)


async def arrive_by_link(ctx: ServiceContext, code: str) -> None:
    """``/start act_<code>``: the QR code on site was scanned."""
    activity = await ctx.uow.activities.by_code(rules.normalise_code(code))
    if activity is None:
        raise NotFound(N_("This check-in code is not valid. Please check the code shown on site."))
    await _arrive(ctx, activity)


async def arrive_by_text(ctx: ServiceContext, text: str) -> bool:
    """Typed text outside a dialog that is an activity's code: checked in or out (True). Text that
    is no code is not ours (False: it is offered as a request) — unless the person has a place at
    an activity whose check-in is open now, who is told the code is wrong."""
    code = rules.as_code(text)
    if code is None:
        return False
    activity = await ctx.uow.activities.by_code(code)
    if activity is None:
        if await ctx.uow.attendance.open_for(ctx.user.id, ctx.now, rules.CHECKIN_OPENS_BEFORE):
            raise NotFound(N_("This check-in code is not valid. Please check the code shown on site."))
        return False
    await _arrive(ctx, activity)
    return True


async def _arrive(ctx: ServiceContext, activity: Activity) -> None:
    """The code or QR code of ``activity``: check in, or (a while after checking in) check out."""
    _still_open(activity)
    signup = await ctx.uow.attendance.signup(activity.id, ctx.user.id)
    if signup is None or signup.status not in (IN, WAITLIST):
        raise Conflict(N_("You are not signed up for {title}. Sign up in the team's group if there are places, "
                          "or please see the team leader on site."), title=activity.title)
    if signup.status == WAITLIST:
        raise Conflict(N_("You are on the waiting list for {title}. Please see the team leader on site: they can "
                          "let you in."), title=activity.title)
    if signup.checked_in_at is None:
        _window(ctx, activity)
        if await ctx.uow.attendance.check_in(activity.id, ctx.user.id, ctx.now):
            await schedule_end(ctx.uow, activity)
            await ctx.tell.attendance.checked_in(ctx.user, activity, ctx.now, ctx.config.timezone)
            await ctx.uow.commit()
            return
        signup = await ctx.uow.attendance.reread(signup)
        if signup.checked_in_at is None:  # the end came first: a no-show
            raise Conflict(N_("The check-in for {title} has closed."), title=activity.title)
    if signup.checked_out_at is None and ctx.now - signup.checked_in_at < REPEAT_GRACE:
        await ctx.tell.attendance.already_in(ctx.user, activity, signup.checked_in_at, ctx.config.timezone)
        await ctx.uow.commit()
        return
    await _leave(ctx, activity, signup)


async def check_out(ctx: ServiceContext, activity_id: int) -> None:
    """The Check out button (only ever one's own: the actor's sign-up, whatever the button says)."""
    activity = await _activity(ctx, activity_id)
    signup = await ctx.uow.attendance.signup(activity.id, ctx.user.id)
    if signup is None or signup.checked_in_at is None:
        raise Conflict(N_("You are not checked in at {title}."), title=activity.title)
    await _leave(ctx, activity, signup)


async def _leave(ctx: ServiceContext, activity: Activity, signup: ActivitySignup) -> None:
    at = rules.checkout_moment(ctx.now, activity.ends_at)
    if not await ctx.uow.attendance.check_out(activity.id, ctx.user.id, at):
        raise Conflict(N_("You have already checked out of {title}. Thank you!"), title=activity.title)
    minutes = await _record(ctx, activity, signup, at)
    await ctx.tell.attendance.checked_out(ctx.user, activity, at, minutes, ctx.config.timezone)
    await ctx.uow.commit()


async def _record(ctx: ServiceContext, activity: Activity, signup: ActivitySignup, out: dt.datetime) -> int:
    """The ledger entry of a check-in → check-out (none for less than a minute); its minutes."""
    assert signup.checked_in_at is not None
    minutes = rules.served_minutes(signup.checked_in_at, out, activity.starts_at, activity.ends_at)
    if minutes > 0:
        await ctx.uow.ledger.add(signup.user_id, SOURCE, minutes, signup.checked_in_at, ended_at=out,
                                 team_id=activity.team_id, activity_id=activity.id, created_by=signup.marked_by)
    return minutes


# -- the end ---------------------------------------------------------------------------------------------
async def finish(ctx: ServiceContext, activity: Activity, at: dt.datetime) -> bool:
    """Close the list at ``at`` (False when someone else already did): check out whoever is still
    in, record the no-shows, tell the people checked out and the leaders."""
    if not await ctx.uow.attendance.finish(activity.id):
        return False
    for signup in await ctx.uow.attendance.still_in(activity.id):
        if await ctx.uow.attendance.check_out(activity.id, signup.user_id, at):
            minutes = await _record(ctx, activity, signup, at)
            person = await ctx.uow.users.get(signup.user_id)
            if person is not None:
                await ctx.tell.attendance.checked_out(person, activity, at, minutes, ctx.config.timezone,
                                                      at_the_end=True)
    absent = await ctx.uow.attendance.mark_no_shows(activity.id)
    present, minutes = 0, 0
    for signup, _person in await ctx.uow.attendance.roll(activity.id):
        if signup.attendance == PRESENT and signup.checked_in_at and signup.checked_out_at:
            present += 1
            minutes += rules.served_minutes(signup.checked_in_at, signup.checked_out_at, activity.starts_at,
                                            activity.ends_at)
    for reader in await _leaders(ctx, activity):
        await ctx.tell.attendance.summary(reader, activity, present=present, absent=absent, minutes=minutes)
    return True


async def _leaders(ctx: ServiceContext, activity: Activity) -> list[User]:
    """Who hears the summary: the team's leaders, its creator, and whoever finished it by hand."""
    readers = {leader.id: leader for leader in await ctx.uow.volunteers.leaders(activity.team_id)}
    for extra in (await ctx.uow.users.get(activity.created_by or 0), ctx.user if ctx.user.id else None):
        if extra is not None and extra.id not in readers:
            readers[extra.id] = extra
    return list(readers.values())
