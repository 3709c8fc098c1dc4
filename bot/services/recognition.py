"""Recognition (典型推介, docs/recognition.md): each month a 志愿之星 per team and one 五星服务队,
scored by :mod:`bot.domain.recognition` from the month's figures, proposed to the coordinators and
posted only once one approves.

* The monthly item ``recognition`` (keyed ``recognition:<first of the month>``, so it runs once
  however many processes sweep) is due on the 1st, ``[recognition] after_report_minutes`` after the
  monthly report. It proposes last month's nominations (``nominations``, unique per month, kind and
  team) and sends the centre a card each with ✅ Approve / ✖️ Skip; it schedules next month's, and
  start-up schedules the first (:func:`schedule_next`).
* Approve and Skip are conditional UPDATEs of the nomination's status (row count: a double tap or
  a second coordinator decides nothing), recorded in the audit trail. Approving queues the
  announcement in the team's group and, for a star, a private note with the certificate image, in
  the same unit of work; every coordinator's card is edited to show the decision.
* ``/stars`` (🌟 Nominations, behind More) shows the latest month's nominations again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from bot.domain import recognition as scoring
from bot.domain.attachments import StarCertificate
from bot.domain.errors import Conflict, NotFound
from bot.domain.lifecycle import FINISHED, MOVES, OrderStatus
from bot.i18n import N_
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.hours import month_period
from bot.views.common import Reader
from bot.views.recognition import STAR, TEAM, Shown
from storage.ledger import SERVED
from storage.models import Nomination, ScheduledItem
from storage.recognition import Attended, ServedRound
from storage.uow import UnitOfWork

KIND = "recognition"  # the schedule item
SUBJECT = "nomination"  # in the audit trail
SATISFIED_FROM = 4  # a rating of 4 or more (满意, 基本满意) is satisfied
OFFERED = tuple(sorted({t.event for t in MOVES.values() if t.target == OrderStatus.DISPATCHED}))


# -- when ----------------------------------------------------------------------------------------------------------
def _following(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def due(first: dt.date, config: ServiceConfig) -> dt.datetime:
    """The 1st of the month ``first``, at the monthly report's time plus ``after_report_minutes``, in UTC."""
    hour, minute = (int(part) for part in config.reminders.digest_time.split(":"))
    local = dt.datetime.combine(first, dt.time(hour, minute), tzinfo=config.timezone)
    return (local + dt.timedelta(minutes=config.recognition.after_report_minutes)).astimezone(dt.UTC)


async def schedule_next(uow: UnitOfWork, config: ServiceConfig, now: dt.datetime) -> bool:
    """Make sure the next monthly run is scheduled (keyed: once across processes and restarts);
    whether this call wrote it. Does not commit."""
    first = now.astimezone(config.timezone).date().replace(day=1)
    if due(first, config) <= now:
        first = _following(first)
    return await uow.schedule.add(KIND, due(first, config), key=f"{KIND}:{first.isoformat()}")


# -- the month's figures -------------------------------------------------------------------------------------------
def _month(first: dt.date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def _figures(user_id: int, rounds: Sequence[ServedRound], attended: Sequence[Attended],
             minutes: int) -> scoring.Figures:
    completed = [r for r in rounds if r.completed]
    rated = [r for r in rounds if r.rated]
    firsts = [r.done_at for r in completed] + [a.starts_at for a in attended]
    return scoring.Figures(
        key=user_id, orders=len(completed), activities=len(attended),
        satisfied=sum(1 for r in rated if (r.stars or 0) >= SATISFIED_FROM), rated=len(rated),
        unrated=len(rounds) - len(rated),
        response_minutes=tuple(max(0.0, (r.accepted_at - r.offered_at).total_seconds() / 60)
                               for r in rounds if r.offered_at is not None),
        minutes=minutes, first_served=min(firsts) if firsts else None)


async def nominate(ctx: ServiceContext, first: dt.date) -> list[Nomination]:
    """Propose the month starting ``first``: each active team's best volunteer (its approved
    members who served) and the best team per member. Nominations the month already has stay as
    they are (the table is keyed); returns those this call created."""
    period = month_period(ctx.config.timezone, first.year, first.month)
    weights, month = ctx.config.recognition.weights, _month(first)
    rounds: dict[tuple[int, int], list[ServedRound]] = defaultdict(list)
    for served in await ctx.uow.recognition.served_rounds(period, finished=FINISHED, offered=OFFERED):
        rounds[served.team_id, served.user_id].append(served)
    attended: dict[tuple[int, int], list[Attended]] = defaultdict(list)
    for present in await ctx.uow.recognition.attended(period):
        attended[present.team_id, present.user_id].append(present)
    created: list[Nomination] = []
    teams: list[scoring.Figures] = []
    for team in await ctx.uow.teams.active():
        members = await ctx.uow.volunteers.members(team.id)
        if not members:
            continue
        ledger = await ctx.uow.ledger.team_totals(team.id, period, period)
        people = [_figures(user_id, rounds.get((team.id, user_id), []), attended.get((team.id, user_id), []),
                           sum(s.month for source, s in ledger.get(user_id, {}).items() if source in SERVED))
                  for user_id in sorted({m.user_id for m in members if m.user_id is not None})]
        teams.append(scoring.team_figures(team.id, len(members), people))
        star = scoring.best(people, weights)
        if star is not None:
            created += await _propose(ctx, month, STAR, team.id, star.figures.key, star)
    five = scoring.best(teams, weights)
    if five is not None and not any(n.kind == TEAM for n in await ctx.uow.recognition.of_month(month)):
        created += await _propose(ctx, month, TEAM, five.figures.key, None, five)
    return created


async def _propose(ctx: ServiceContext, month: str, kind: str, team_id: int, user_id: int | None,
                   ranked: scoring.Ranked) -> list[Nomination]:
    row = await ctx.uow.recognition.propose(month, kind, team_id, user_id, scoring.points(ranked),
                                            scoring.to_json(ranked))
    return [row] if row is not None else []


# -- showing -------------------------------------------------------------------------------------------------------
async def _shown(ctx: ServiceContext, nomination: Nomination) -> Shown:
    team = await ctx.uow.teams.get(nomination.team_id)
    name = ""
    if nomination.user_id is not None:
        membership = next((v for v in await ctx.uow.volunteers.of_user(nomination.user_id)
                           if v.team_id == nomination.team_id), None)
        person = await ctx.uow.users.get(nomination.user_id)
        name = membership.name if membership else (person.first_name if person else "?")
    decider = await ctx.uow.users.get(nomination.decided_by) if nomination.decided_by else None
    return Shown(nomination.id, nomination.kind, nomination.month, team.name if team else "?", name,
                 dict(nomination.figures), nomination.status, decider.first_name if decider else "")


async def _send_cards(ctx: ServiceContext, readers: Sequence[Reader], month: str,
                      nominations: Sequence[Nomination]) -> None:
    shown = [await _shown(ctx, n) for n in nominations]
    sent = await ctx.tell.recognition.cards(readers, month, shown)
    for nomination in nominations:
        await ctx.uow.recognition.set_cards(nomination.id, [*nomination.cards, *sent[nomination.id]])


async def monthly(ctx: ServiceContext, item: ScheduledItem) -> str:
    """The schedule item: last month's nominations, proposed to the centre (nothing posted yet)."""
    first = dt.date.fromisoformat(item.key.rpartition(":")[2]) if item.key else \
        item.due_at.astimezone(ctx.config.timezone).date().replace(day=1)
    await schedule_next(ctx.uow, ctx.config, max(ctx.now, due(first, ctx.config)))
    month_first = _previous(first)
    created = await nominate(ctx, month_first)
    if created:
        await _send_cards(ctx, await ctx.centre(), _month(month_first), created)
    return f"{_month(month_first)}: {len(created)} nominations"


async def show(ctx: ServiceContext) -> None:
    """``/stars``: the latest month's nominations again, to the coordinator privately, with the
    buttons of those still undecided."""
    ctx.require_coordinator()
    month = await ctx.uow.recognition.latest_month()
    if month is None:
        await ctx.tell.recognition.none_yet(ctx.user)
    else:
        await _send_cards(ctx, [Reader(ctx.user.telegram_id, ctx.user)], month,
                          await ctx.uow.recognition.of_month(month))
    await ctx.uow.commit()


# -- deciding ------------------------------------------------------------------------------------------------------
async def _decide(ctx: ServiceContext, nomination_id: int, status: str) -> Nomination:
    ctx.require_coordinator()
    nomination = await ctx.uow.recognition.get(nomination_id)
    if nomination is None:
        raise NotFound(N_("This nomination no longer exists."))
    if not await ctx.uow.recognition.decide(nomination_id, status, ctx.user.id):
        raise Conflict(N_("This nomination was already decided."))
    await ctx.uow.audit.record(ctx.user.id, SUBJECT, nomination_id, status, month=nomination.month,
                               kind=nomination.kind, team=nomination.team_id, user=nomination.user_id)
    decided = await ctx.uow.recognition.get(nomination_id)
    assert decided is not None
    return decided


async def approve(ctx: ServiceContext, nomination_id: int) -> str:
    """A coordinator's ✅: posted once — the team's group is told, a star gets the private note with
    the certificate image; every coordinator's card shows who approved it."""
    nomination = await _decide(ctx, nomination_id, "approved")
    shown = await _shown(ctx, nomination)
    team = await ctx.uow.teams.get(nomination.team_id)
    if team is not None and team.chat_id is not None:
        await ctx.tell.recognition.announce(team, shown)
    if nomination.kind == STAR and nomination.user_id is not None:
        star = await ctx.uow.users.get(nomination.user_id)
        if star is not None:
            f = shown.figures
            certificate = StarCertificate(shown.name, shown.team, shown.month, round(int(f["minutes"]) / 60, 2),
                                          int(f["orders"]) + int(f["activities"]), int(f["satisfied"]),
                                          int(f["rated"]), star.language or ctx.config.default_language)
            await ctx.tell.recognition.star_note(star, shown, certificate)
    await ctx.uow.recognition.mark_posted(nomination_id)
    posted = await ctx.uow.recognition.get(nomination_id)
    assert posted is not None
    await ctx.tell.recognition.decided(posted.cards, await _shown(ctx, posted))
    await ctx.uow.commit()
    return ctx.tell.tr(ctx.user)(N_("Approved: posted to the team."))


async def skip(ctx: ServiceContext, nomination_id: int) -> str:
    """A coordinator's ✖️: nothing is posted; the cards show who skipped it."""
    nomination = await _decide(ctx, nomination_id, "rejected")
    await ctx.tell.recognition.decided(nomination.cards, await _shown(ctx, nomination))
    await ctx.uow.commit()
    return ctx.tell.tr(ctx.user)(N_("Skipped: nothing is posted."))


HANDLERS: dict[str, Callable[[ServiceContext, ScheduledItem], Awaitable[str]]] = {KIND: monthly}
