"""The permission matrix: every command and button action × every role, and a stranger.

Each case runs on a fresh copy of one prepared world (a SQLite file copied per case), through the
service the handler calls, as the handlers do (one unit of work, the actor's row ensured first).
An allowed action succeeds; any other is refused with :class:`NotAllowed` (or :class:`NotFound` for
another person's request, whose existence is not revealed) — a translated message — and leaves every
table exactly as it was (the unit of work rolls back: not even a message is queued). The checks live in
the services, so this holds whatever a button claims.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.app import service_config
from bot.domain.errors import DomainError
from bot.i18n import I18n
from bot.services import (
    activities,
    activity_dialog,
    attendance,
    buildings,
    claim,
    dispatch,
    history,
    hours,
    offer,
    people,
    points,
    privacy,
    quiet,
    rating,
    recognition,
    registration,
    report,
    request,
    roster_chat,
    routing,
    teams,
)
from bot.services.context import ServiceContext
from bot.services.wiring import service_context
from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Base, Building, Volunteer
from storage.uow import UnitOfWork
from tests.support.activities import add_activity, sign_up
from tests.support.dbfixtures import FakeClock

ROLES = ("admin", "coordinator", "team_leader", "building_leader", "volunteer", "business", "resident", "stranger")
TELEGRAM_IDS = {role: 1000 + i for i, role in enumerate(ROLES)}
COORDINATING = {"admin", "coordinator"}
MEMBERS = {"team_leader", "volunteer", "business"}
EVERYONE = set(ROLES)
NOBODY: set[str] = set()
CLOCK = FakeClock()  # every case at one fixed instant
SETTINGS = Settings(admins=[TELEGRAM_IDS["admin"]], telegram={"token": "1:x"}, coordinators_chat_id=-100)
I18N = I18n()

Action = Callable[[ServiceContext], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    name: str
    allowed: set[str]
    action: Action


# Orders of the prepared world: 1 dispatched to team repair; 2 accepted by the volunteer; 3 done by
# the volunteer, waiting for the resident's rating; 4 new (not dispatched). Activity 1 of team repair
# (code ACDE34) is in four days, nobody signed up. Activity 2 of team repair (code K7Q2) is on now:
# the volunteer checked in 20 minutes ago (sign-up 1), the business has a place and has not come
# yet (sign-up 2).
CASES = [
    # -- commands ----------------------------------------------------------------------------------
    Case("/coordinator add", {"admin"}, lambda c: people.set_coordinator(c, 5555, "New", True)),
    Case("/team (list)", COORDINATING | {"team_leader"}, lambda c: teams.overview(c, None, c.user.telegram_id)),
    Case("/team CODE", COORDINATING | {"team_leader"}, lambda c: teams.overview(c, "repair", c.user.telegram_id)),
    Case("/team link", COORDINATING | {"team_leader"}, lambda c: teams.send_link(c, "repair", c.user.telegram_id)),
    Case("/team add", COORDINATING, lambda c: teams.add_team(c, "clean", "Clean", ["housekeeping"], 1)),
    Case("/team rename", COORDINATING, lambda c: teams.rename(c, "repair", "Fixers")),
    Case("/team categories", COORDINATING, lambda c: teams.set_categories(c, "repair", ["repair"])),
    Case("/team sub", COORDINATING, lambda c: teams.add_subteam(c, "repair", "repair", "Pipes")),
    Case("/team leader", COORDINATING, lambda c: teams.appoint_leader(c, "repair", TELEGRAM_IDS["volunteer"], True)),
    Case("/team archive", COORDINATING, lambda c: teams.archive(c, "spare", True)),
    Case("/link", COORDINATING, lambda c: teams.link_group(c, "spare", -777)),
    Case("/building (list or own link)", COORDINATING | {"building_leader"}, buildings.overview),
    Case("/building add", COORDINATING, lambda c: buildings.add(c, "xh_1", "西湖社区", "1号楼")),
    Case("/building leader", COORDINATING,
         lambda c: buildings.appoint_leader(c, "dh_3", TELEGRAM_IDS["resident"], True)),
    Case("/building link CODE", COORDINATING | {"building_leader"}, lambda c: buildings.send_link(c, "dh_3")),
    Case("/neighbour", {"building_leader"}, lambda c: buildings.begin_for_neighbour(c, None)),
    Case("/orders", COORDINATING, lambda c: dispatch.list_open(c, c.user.telegram_id)),
    Case("/dispatch", COORDINATING, lambda c: dispatch.dispatch(c, 4, "repair")),
    Case("/find", COORDINATING, lambda c: people.find_volunteers(c, "repair", None)),
    Case("/businesses", COORDINATING, teams.list_businesses),
    Case("/roster", COORDINATING, lambda c: roster_chat.export(c, "csv")),
    Case("/team member", COORDINATING, lambda c: teams.add_member(c, "spare", TELEGRAM_IDS["volunteer"])),
    Case("/onduty", MEMBERS, lambda c: people.set_duty(c, True)),
    Case("/offduty", MEMBERS, lambda c: people.set_duty(c, False)),
    Case("/request", EVERYONE, request.begin),
    Case("/my", EVERYONE, request.list_mine),
    Case("/start", EVERYONE, people.welcome),
    Case("/language", EVERYONE, people.offer_languages),
    Case("/join", EVERYONE, registration.begin_join),
    Case("/profile", EVERYONE, registration.show_profile),
    Case("roster file", COORDINATING, lambda c: _check_upload(c, "roster.csv")),
    Case("/routes", COORDINATING, lambda c: routing.show_rules(c, c.user.telegram_id)),
    Case("/quiet", EVERYONE, lambda c: quiet.set_quiet_hours(c, "22:00-07:00")),
    Case("/activities", EVERYONE, activities.overview),
    Case("/checkin", COORDINATING | {"team_leader"}, attendance.choose),
    Case("check-in code (typed)", {"volunteer", "business"}, lambda c: attendance.arrive_by_text(c, "K7Q2")),
    Case("check-in QR code (/start act_K7Q2)", {"volunteer", "business"},
         lambda c: attendance.arrive_by_link(c, "K7Q2")),
    Case("/teamhours", {"team_leader"}, hours.team_view),
    Case("/hoursexport", COORDINATING, hours.offer_export),
    Case("/honour", COORDINATING, lambda c: hours.honour(c, "R-100", "2", "flood relief")),
    Case("/correct", COORDINATING, lambda c: hours.correct(c, 1, "-0.5", "left early")),
    Case("/ledger", COORDINATING, lambda c: hours.list_entries(c, "R-100")),
    Case("/certificate NUMBER", COORDINATING, lambda c: hours.certificate(c, "year", "R-100")),
    Case("/points", MEMBERS, points.show),
    Case("/redemptions", COORDINATING, lambda c: points.per_business(c, None, c.user.telegram_id)),
    Case("/history", COORDINATING, lambda c: history.show(c, 1, c.user.telegram_id)),
    Case("history button", COORDINATING, lambda c: history.show(c, 1, -100)),
    Case("request history menu button", COORDINATING, history.explain),
    Case("/report", COORDINATING | {"team_leader"}, report.offer),
    Case("/households", COORDINATING, lambda c: report.households(c, "dh_3", "120")),
    # -- buttons -----------------------------------------------------------------------------------
    Case("report period button", COORDINATING | {"team_leader"}, lambda c: report.period_chosen(c, "this")),
    Case("report of one's own team button", COORDINATING | {"team_leader"},
         lambda c: report.place_chosen(c, "this", "t", 1)),
    Case("report of another team button", COORDINATING, lambda c: report.place_chosen(c, "last", "t", 2)),
    Case("report of the district button", COORDINATING, lambda c: report.place_chosen(c, "year", "d", 0)),
    Case("report of a community button", COORDINATING, lambda c: report.place_chosen(c, "this", "c", 0)),
    Case("households button", COORDINATING, report.households_help),
    Case("dispatch button", COORDINATING, lambda c: dispatch.dispatch(c, 4, 1)),
    Case("reject button", COORDINATING, lambda c: dispatch.ask_reject_reason(c, 4)),
    Case("reject reason button", COORDINATING, lambda c: dispatch.reject(c, 4, "area")),
    Case("add rule button", COORDINATING, lambda c: routing.ask_category(c, c.user.telegram_id)),
    Case("rule category button", COORDINATING, lambda c: routing.ask_community(c, c.user.telegram_id, "repair")),
    Case("rule community button", COORDINATING, lambda c: routing.ask_team(c, c.user.telegram_id, "repair", 1)),
    Case("rule team button", COORDINATING, lambda c: routing.add_rule(c, c.user.telegram_id, "repair", 1, 1)),
    Case("delete rule button", COORDINATING, lambda c: routing.delete_rule(c, c.user.telegram_id, 1)),
    Case("approve button", COORDINATING, lambda c: people.decide_volunteer(c, 99, True)),
    Case("deny button", COORDINATING, lambda c: people.decide_volunteer(c, 99, False)),
    Case("accept button", MEMBERS, lambda c: claim.accept(c, 1, -500)),
    Case("on my way button", {"volunteer"}, lambda c: claim.on_my_way(c, 2)),
    Case("done button", {"volunteer"}, lambda c: claim.done(c, 2)),
    Case("release button", {"volunteer"}, lambda c: claim.release(c, 2)),
    Case("still mine button", {"volunteer"}, lambda c: claim.keep(c, 2)),
    Case("hours button", {"volunteer"}, lambda c: claim.record_hours(c, 3, "2")),
    Case("rate button", {"resident"}, lambda c: rating.rate(c, 3, 5)),
    Case("cancel button", {"resident"}, lambda c: request.cancel(c, 4)),
    Case("language button", EVERYONE, lambda c: people.set_language(c, "en")),
    Case("profile edit button", MEMBERS, lambda c: registration.edit_profile(c, "community")),
    Case("abort (request) button", NOBODY, lambda c: request.abandon(c, 1)),
    Case("check-in show button", COORDINATING | {"team_leader"}, lambda c: attendance.show(c, 2)),
    Case("check-in list button", COORDINATING | {"team_leader"}, lambda c: attendance.show_list(c, 2)),
    Case("mark present button", COORDINATING | {"team_leader"}, lambda c: attendance.mark_present(c, 2)),
    Case("finish activity button", COORDINATING | {"team_leader"}, lambda c: attendance.ask_finish(c, 2)),
    Case("finish activity confirm button", COORDINATING | {"team_leader"}, lambda c: attendance.finish_now(c, 2)),
    Case("check out button", {"volunteer"}, lambda c: attendance.check_out(c, 2)),
    # The private keyboard's buttons that have no command of their own (bot.views.menu).
    Case("my service hours button", MEMBERS, hours.summary),
    Case("certificate button", MEMBERS, lambda c: hours.certificate(c, "lastyear")),
    Case("hours export button", COORDINATING, lambda c: hours.export(c, "last")),
    Case("honour hours and corrections button", COORDINATING, hours.coordinator_help),
    Case("volunteer stars button", COORDINATING, recognition.show),
    Case("approve nomination button", COORDINATING, lambda c: recognition.approve(c, 1)),
    Case("skip nomination button", COORDINATING, lambda c: recognition.skip(c, 1)),
    Case("help button", EVERYONE, people.show_help),
    Case("more button", EVERYONE, people.more),  # everyone's own data (🔒, 🗑) waits behind More
    Case("find volunteers button", COORDINATING, people.offer_skills),
    Case("find by skill button", COORDINATING, lambda c: people.find_volunteers(c, "repair", None, c.user.telegram_id)),
    Case("quiet hours button", EVERYONE, quiet.offer_choices),
    Case("quiet hours choice button", EVERYONE, lambda c: quiet.choose(c, "22-7")),
    Case("no-thanks (offer) button", EVERYONE, offer.decline),
    Case("/mydata", EVERYONE, privacy.show),
    Case("/forget (the question)", EVERYONE, privacy.ask_to_forget),
    Case("forget answer button (no question asked)", NOBODY, lambda c: privacy.answer(c, 1, True)),
    # Activities (activity 1 is team repair's): its card, and a creator's or leader's buttons.
    Case("new activity button", COORDINATING | {"team_leader"}, activity_dialog.begin),
    Case("sign up button", MEMBERS, lambda c: activities.sign_up(c, 1)),
    Case("manage activity button", COORDINATING | {"team_leader"}, lambda c: activities.show_manage(c, 1)),
    Case("change activity button", COORDINATING | {"team_leader"}, lambda c: activities.ask_change(c, 1, "place")),
    Case("cancel activity button", COORDINATING | {"team_leader"}, lambda c: activities.ask_cancel(c, 1)),
    Case("cancel activity for sure button", COORDINATING | {"team_leader"}, lambda c: activities.cancel(c, 1)),
    # Buttons of a dialog the actor is not in: refused for everyone, whoever they are.
    Case("category button", NOBODY, lambda c: request.choose_category(c, 1, "repair")),
    Case("another time button", NOBODY, lambda c: request.other_time(c, 1)),
    Case("another address button", NOBODY, lambda c: request.other_address(c, 1)),
    Case("confirm button", NOBODY, lambda c: request.confirm(c, 1, "today")),
    Case("edit button", NOBODY, lambda c: request.edit(c, 1)),
    Case("edit field button", NOBODY, lambda c: request.edit_field(c, 1, "community")),
    Case("skip comment button", NOBODY, lambda c: rating.skip_comment(c, 3)),
    Case("join pick button", NOBODY, lambda c: registration.pick(c, "skills", "repair")),
    Case("join done button", NOBODY, lambda c: registration.done(c, "skills")),
    Case("join team button", NOBODY, lambda c: registration.choose_team(c, 1)),
    Case("yes (offer) button", NOBODY, offer.accept),
    Case("cancel my sign-up button", NOBODY, lambda c: activities.withdraw(c, 1)),  # nobody signed up
    Case("activity team button", NOBODY, lambda c: activity_dialog.choose_team(c, 1)),
    Case("activity choice button", NOBODY, lambda c: activity_dialog.pick(c, "length", "2")),
    Case("announce to another team button", NOBODY, lambda c: activity_dialog.toggle_also(c, 2)),
    Case("publish activity button", NOBODY, activity_dialog.publish),
]


async def _check_upload(ctx: ServiceContext, file_name: str) -> None:
    roster_chat.check_upload(ctx, file_name, 100)


async def _prepare(path: Path) -> None:
    """The world every case starts from: one person per role, teams, a building, four orders."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        async with UnitOfWork(session_factory(engine), clock=CLOCK) as uow:
            users = {role: await uow.users.ensure(TELEGRAM_IDS[role], role.title(), "en")
                     for role in ROLES if role != "stranger"}
            users["coordinator"].is_coordinator = True
            team = await uow.teams.add("repair", "Repair", ["repair"])
            await uow.teams.bind_chat(team.id, -500)
            spare = await uow.teams.add("spare", "Spare", ["delivery"])
            await uow.routes.put("delivery", "", spare.id, None)  # rule 1
            now = uow.now()
            await uow.activities.add(team_id=team.id, title="Repair day", place="Hall", code="ACDE34", capacity=5,
                                     starts_at=now + dt.timedelta(days=5), ends_at=now + dt.timedelta(days=5, hours=2),
                                     signup_deadline=now + dt.timedelta(days=4))  # activity 1
            for role, kind, leader in (("team_leader", "resident", True), ("volunteer", "resident", False),
                                       ("business", "business", False)):
                uow.session.add(Volunteer(user_id=users[role].id, team_id=team.id, name=role, phone="+8613800000000",
                                          status="approved", kind=kind, is_leader=leader, skills=["repair"],
                                          organisation="Shop" if kind == "business" else "", created_at=now,
                                          registry_number="R-100" if role == "volunteer" else None))
            uow.session.add(Volunteer(id=99, user_id=None, team_id=team.id, name="Applicant", phone="+8613900000000",
                                      status="pending", created_at=now))
            uow.session.add(Building(code="dh_3", community="东湖社区", name="3号楼",
                                     leader_id=users["building_leader"].id, created_at=now))
            resident, volunteer = users["resident"].id, users["volunteer"].id
            for status, volunteer_id, team_id in (("dispatched", None, team.id), ("accepted", volunteer, team.id),
                                                  ("done", volunteer, team.id), ("new", None, None)):
                await uow.orders.add(resident_id=resident, status=status, category="repair", description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001", team_id=team_id,
                                     volunteer_id=volunteer_id)
            activity = await add_activity(uow, team.id, starts_at=now - dt.timedelta(minutes=30))
            await sign_up(uow, activity, volunteer)
            await sign_up(uow, activity, users["business"].id)
            assert await uow.attendance.check_in(activity.id, volunteer, now - dt.timedelta(minutes=20))
            await uow.ledger.add(volunteer, "order", 60, now, team_id=team.id, order_id=3, round=1)  # entry 1
            figures = {"orders": 1, "activities": 0, "satisfied": 0, "rated": 0, "unrated": 1, "minutes": 60,
                       "median_response": None, "members": 1, "score": 50.0}
            assert await uow.recognition.propose("2025-12", "star", team.id, volunteer, 50.0, figures)  # nomination 1
            await uow.commit()
    finally:
        await engine.dispose()


async def _snapshot(uow: UnitOfWork) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for name, table in Base.metadata.tables.items():
        rows = (await uow.session.execute(select(table).order_by(*table.primary_key.columns))).all()
        tables[name] = [tuple(row) for row in rows]
    return tables


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    path = tmp_path_factory.mktemp("permissions") / "world.sqlite3"
    asyncio.run(_prepare(path))
    return path


@pytest.fixture(scope="module")
def world_rows(world: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the prepared world, once: what a refused action must leave exactly as it was."""
    import asyncio

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(f"sqlite+aiosqlite:///{world}")
        try:
            async with UnitOfWork(session_factory(engine), clock=CLOCK) as uow:
                return await _snapshot(uow)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(role: str, world: Path, world_rows: dict[str, list[tuple[Any, ...]]],
                                 tmp_path: Path) -> None:
    """A refused case leaves the copy as it was (checked), so the next case reuses it; an allowed one
    may have changed it, so the next case gets a fresh copy."""
    config = service_config(SETTINGS)
    outcomes: dict[str, str] = {}
    engine = None
    try:
        for case in CASES:
            if engine is None:
                path = tmp_path / f"{len(outcomes)}.sqlite3"
                shutil.copy(world, path)
                engine = create_engine(f"sqlite+aiosqlite:///{path}")
                sessions = session_factory(engine)
            try:
                async with UnitOfWork(sessions, clock=CLOCK) as uow:
                    user = await uow.users.ensure(TELEGRAM_IDS[role], role.title(), "en")
                    await case.action(service_context(uow, user, i18n=I18N, config=config,
                                                      bot_username="VolunteerLoopBot"))
                outcomes[case.name] = "ok"
                await engine.dispose()
                engine = None
            except DomainError as refusal:
                text = I18N.gettext("zh", refusal.message, **refusal.params)
                assert text and text != refusal.message, f"{case.name}: refusal not translated"  # noqa: PT017
                async with UnitOfWork(sessions, clock=CLOCK) as uow:
                    assert await _snapshot(uow) == world_rows, f"{case.name} refused for {role} but changed data"
                outcomes[case.name] = "refused"
    finally:
        if engine is not None:
            await engine.dispose()
    expected = {case.name: "ok" if role in case.allowed else "refused" for case in CASES}
    assert outcomes == expected
