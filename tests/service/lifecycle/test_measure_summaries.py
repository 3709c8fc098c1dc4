"""The measures' summaries stay in step with the raw rows (docs/measures.md, "Summaries"): random
sequences of the loop's commands through the services (requests placed, dispatched and re-dispatched
to teams, accepted, released, done, rated — a poor rating reopens —, cancelled, rejected, closed
unrated by the sweep, time passing into the next month) mixed with ledger entries (service, honour,
corrections, entries written after the rating) and roster changes (approvals and suspensions, a
move to another team or community, a second team), on SQLite and PostgreSQL. After every command
the summaries the triggers kept are exactly what a rebuild from the raw rows gives, and at the end
every figure of the report read from them — the district, each team and each community, each month
of the year to date, medians included — is its own ``measure()`` on the raw rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.measures import Period, Scope
from bot.services import measures
from storage.models import HoursEntry, Rating, Volunteer
from tests.service.lifecycle.test_properties import COMMANDS, PROGRESS, TOURS
from tests.service.lifecycle.world import MEMBERS, PEOPLE, TEAM_CHATS, Act, Command, Place, Replay, Wait, World

EXAMPLES = {"sqlite": 6, "postgresql": 3}  # on a shared 2-core machine: minutes each
COMMUNITIES = ("Sunny Garden", "East Lake")
SUMMARY_TABLES = {"measure_counts": "month, kind, axis, key, n",
                  "measure_minutes": "month, kind, axis, key, minutes, n",
                  "measure_served": "month, user_id, team_id",
                  "measure_residents": "month, resident_id, community, n"}


@dataclass(frozen=True)
class Roster:
    """A change to ``who``'s roster row: its status, team and community (``second``: a new row in
    another team, a person in two teams; ``nobody``: a roster row without an account)."""

    who: str
    status: str
    team: str
    community: str
    second: bool = False


@dataclass(frozen=True)
class Ledger:
    """A ledger entry of ``who``'s now: service for an order's latest round (written after any
    rating of it), an activity, honour hours, or a correction of their latest entry."""

    who: str
    source: str
    minutes: int


Step = Command | Roster | Ledger
PEOPLE_NAMES = tuple(PEOPLE)
ROSTER = st.builds(Roster, st.sampled_from((*PEOPLE_NAMES, "nobody")),
                   st.sampled_from(("approved", "approved", "pending")), st.sampled_from(tuple(TEAM_CHATS)),
                   st.sampled_from(COMMUNITIES), st.booleans())
LEDGER = st.builds(Ledger, st.sampled_from(PEOPLE_NAMES),
                   st.sampled_from(("order", "activity", "honour", "correction")), st.integers(-30, 120))
NEXT_MONTH = Wait(20 * 24 * 60)  # from mid-January into February: moves of January's orders in February
EXTRA = st.one_of(ROSTER, LEDGER, st.just(NEXT_MONTH))
SEGMENTS = st.one_of(PROGRESS, COMMANDS.map(lambda c: [c]), EXTRA.map(lambda c: [c]), EXTRA.map(lambda c: [c]))
SCRIPTS = st.lists(SEGMENTS, min_size=5, max_size=12).map(
    lambda segments: [Place("rita"), *(step for segment in segments for step in segment)])
# The lifecycle's tours (a reopened order served by another team, "no response"), with the ledger
# and the roster changing around them.
MIXED_TOURS: list[list[Step]] = [
    [*TOURS[1][:5], Ledger("alma", "order", 40), Roster("alma", "pending", "alpha", "East Lake"), *TOURS[1][5:],
     Ledger("ben", "correction", -10), Roster("alma", "approved", "bravo", "Sunny Garden", second=True), NEXT_MONTH,
     Ledger("ben", "activity", 60)],
    [*TOURS[0], NEXT_MONTH, Roster("amos", "approved", "bravo", "East Lake"), Ledger("amos", "order", 30),
     Roster("nobody", "approved", "alpha", "East Lake"), Roster("nobody", "approved", "bravo", "East Lake", True),
     Roster("nobody", "pending", "alpha", "Sunny Garden")],
]


async def play(world: World, script: list[Step]) -> None:
    await world.reset()
    for number, given in enumerate(script):
        step = world.last if isinstance(given, Replay) else given
        if step is None or isinstance(step, Replay):
            continue
        if isinstance(step, Place | Act | Wait):
            world.last = step
        await _step(world, step)
        where = f"step {number}: {step!r}\nscript: {script!r}"
        kept, rebuilt = await summaries_and_rebuild(world)
        for table in SUMMARY_TABLES:
            assert kept[table] == rebuilt[table], f"{where}\n{table}: kept {kept[table]}\nrebuilt {rebuilt[table]}"
    await report_is_measure(world)


async def _step(world: World, step: Step) -> None:
    if isinstance(step, Wait):
        await world.sweep(step.minutes)
    elif isinstance(step, Place):
        await world.write_request(step)
        await world.refusal_of(world.confirm(step.who))
    elif isinstance(step, Act):
        await world.refusal_of(world.act(await world.resolve(step)))
    elif isinstance(step, Roster):
        await _roster(world, step)
    else:
        await _ledger(world, step)


async def _roster(world: World, change: Roster) -> None:
    async with world.uow() as uow:
        user_id = world.user_ids.get(change.who)  # "nobody": a roster row without an account
        team_id = world.team_ids[change.team]
        person = Volunteer.user_id.is_(None) if user_id is None else Volunteer.user_id == user_id
        in_team = await uow.session.scalar(select(Volunteer).where(person, Volunteer.team_id == team_id).limit(1))
        row = in_team or await uow.session.scalar(select(Volunteer).where(person).limit(1))
        if row is None or (change.second and in_team is None):
            uow.session.add(Volunteer(user_id=user_id, team_id=world.team_ids[change.team], name=change.who,
                                      phone="+8613900000000", status=change.status, community=change.community,
                                      created_at=uow.now()))
        else:
            row.status, row.community = change.status, change.community
            if in_team is None:
                row.team_id = team_id
        await uow.commit()


async def _ledger(world: World, entry: Ledger) -> None:
    async with world.uow() as uow:
        user_id = world.user_ids[entry.who]
        if entry.source == "correction":
            latest = await uow.session.scalar(
                select(HoursEntry.id).where(HoursEntry.user_id == user_id, HoursEntry.source != "correction")
                .order_by(HoursEntry.id.desc()).limit(1))
            if latest is not None:
                await uow.ledger.correct(latest, entry.minutes, "typo", world.user_ids["coco"])
        elif entry.source == "order":
            rated = await uow.session.scalar(select(Rating).order_by(Rating.id.desc()).limit(1))
            order_id = rated.order_id if rated is not None else world.order_id(0)
            order = await uow.orders.get(order_id)
            if order is not None:  # another entry for a rated round: the rating counts for its team too
                team = order.team_id or next(iter(world.team_ids.values()))
                await uow.ledger.add(user_id, "order", abs(entry.minutes) + 1, uow.now(), team_id=team,
                                     order_id=order.id, round=rated.round if rated is not None else order.round)
        else:
            team = world.team_ids[MEMBERS.get(entry.who, "bravo")]
            await uow.ledger.add(user_id, entry.source, abs(entry.minutes) + 1, uow.now(), team_id=team,
                                 reason="thanks" if entry.source == "honour" else None)
        await uow.commit()


async def _rows(world: World) -> dict[str, list[Any]]:
    async with world.uow() as uow:
        return {table: [tuple(row) for row in (await uow.session.execute(text(
            f"SELECT {columns} FROM {table}" + (" WHERE n <> 0" if columns.endswith(", n") else "")
            + f" ORDER BY {columns}"))).all()] for table, columns in SUMMARY_TABLES.items()}


async def summaries_and_rebuild(world: World) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The summaries as the triggers kept them, and as a rebuild from the raw rows gives them."""
    kept = await _rows(world)
    async with world.uow() as uow:
        await uow.summaries.rebuild()
        await uow.commit()
    return kept, await _rows(world)


async def report_is_measure(world: World) -> None:
    config, tz = world.config.measures, world.config.timezone
    month = world.clock.now.astimezone(tz)
    period = Period.month(month.year, month.month)
    scopes = [Scope(), *(Scope("team", code) for code in TEAM_CHATS)]
    async with world.uow() as uow:
        scopes += [Scope("community", name) for name in await uow.measures.communities()]
    for scope in scopes:
        async with world.uow() as uow:
            where = await measures.place(uow, scope)
            assert await measures.summaries_serve(uow, where, measures.months_to(period), tz)
            data = await measures.report_data(uow, config, scope, period, tz)
        groups = [(m, scope, f) for m, f in data.by_month]
        groups += [(period, Scope("team", code), f) for code, f in data.by_team]
        groups += [(period, Scope("community", name), f) for name, f in data.by_community]
        for when, of, figures in groups:
            async with world.uow() as uow:
                raw = await measures.measure(uow, config, await measures.place(uow, of), when, tz)
            assert figures == raw, f"{of} {when}: summaries {figures}\nraw {raw}"


async def test_summaries_stay_in_step_with_the_raw_rows(engine: AsyncEngine) -> None:
    world, loop = World(engine), asyncio.get_running_loop()

    @hypothesis.settings(max_examples=EXAMPLES[engine.dialect.name], deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
                         suppress_health_check=list(hypothesis.HealthCheck), print_blob=False)
    @hypothesis.given(SCRIPTS)
    def run(script: list[Step]) -> None:
        asyncio.run_coroutine_threadsafe(play(world, script), loop).result()

    for tour in reversed(MIXED_TOURS):
        run = hypothesis.example(tour)(run)
    await asyncio.to_thread(run)


async def test_the_tours_reach_every_kind_of_count(engine: AsyncEngine) -> None:
    """The comparison above compares summaries that are there: after the mixed tours the counts hold
    every kind, and both medians' minutes."""
    world = World(engine)
    kinds: set[str] = set()
    for tour in MIXED_TOURS:
        await play(world, tour)
        async with world.uow() as uow:
            kinds |= set((await uow.session.scalars(text(
                "SELECT DISTINCT kind FROM measure_counts WHERE n > 0"))).all())
            kinds |= {f"minutes {k}" for k in (await uow.session.scalars(text(
                "SELECT DISTINCT kind FROM measure_minutes WHERE n > 0"))).all()}
    assert kinds >= {"counted", "resolved", "unrated", "given", "satisfied", "served", "homes", "reached",
                     "minutes a", "minutes d"}, kinds
    assert dt.timedelta(days=20) < world.clock.now - dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
