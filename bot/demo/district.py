"""The demo's district: people and groups in the sandbox, and the same people in the bot's database
with a few weeks of history, so the reports and rates have something to show from the first minute.

The history goes through the bot's own services and repositories on a clock set back in time (as
the service tests do), never through raw rows: the measures' summaries and the audit follow it as
they follow real use. What those services queued for Telegram is dropped afterwards — it belongs to
a past the sandbox never saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import satisfaction
from bot.i18n import I18n
from bot.services import claim, dispatch, rating
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from sandbox.server import SandboxServer
from storage.db import session_factory
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

ROLES = ("resident", "building_leader", "volunteer", "team_leader", "coordinator", "admin")


@dataclass(frozen=True)
class Person:
    """One of the district's people as the page lists them."""

    id: int
    name: str
    role: str
    team: str | None = None


@dataclass
class District:
    """Who is who, and the chats: the coordinators' group and each team's group."""

    people: list[Person] = field(default_factory=list)
    groups: dict[int, str] = field(default_factory=dict)  # chat id → title
    members: dict[int, list[int]] = field(default_factory=dict)  # chat id → user ids
    admin: int = 0
    coordinators_chat: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "people": [{"id": p.id, "name": p.name, "role": p.role, "team": p.team,
                        "chats": [p.id, *[c for c, ids in self.members.items() if p.id in ids]]}
                       for p in self.people],
            "groups": {str(chat): title for chat, title in self.groups.items()},
        }


# (code, names in zh and en, categories served, volunteers in zh and en, skills)
TEAMS = (
    ("repair", ("维修服务队", "Repair team"), ["repair", "housekeeping"],
     (("李师傅", "Master Li"), ("张建国", "Zhang Jianguo"), ("陈小红", "Chen Xiaohong"), ("赵强", "Zhao Qiang")),
     ["repair"]),
    ("care", ("助老服务队", "Elder-care team"), ["delivery", "consulting", "mediation", "other"],
     (("刘芳", "Liu Fang"), ("孙丽", "Sun Li"), ("周敏", "Zhou Min"), ("吴婷", "Wu Ting")), ["delivery"]),
    ("medical", ("医疗应急队", "Medical and emergency team"), ["emergency", "training"],
     (("郑医生", "Dr Zheng"), ("王护士", "Nurse Wang"), ("冯伟", "Feng Wei"), ("何军", "He Jun")), ["emergency"]),
)
COORDINATORS = (("黄主任", "Director Huang"), ("林老师", "Ms Lin"))
ADMIN = ("管理员", "Admin")
BUILDING_LEADERS = (("东湖社区", "3栋", ("马楼长", "Leader Ma")), ("西湖社区", "8栋", ("高楼长", "Leader Gao")))
RESIDENTS = (("王阿姨", "Auntie Wang"), ("赵大爷", "Grandpa Zhao"), ("钱奶奶", "Granny Qian"), ("孙先生", "Mr Sun"))
COMMUNITIES = ("东湖社区", "西湖社区")

# Finished requests of the past weeks: (days ago, resident index, team, category, minutes to accept,
# minutes to done, the verdict: each closes the request; a poor one would reopen it)
HISTORY = (
    (26, 0, "repair", "repair", 12, 50, satisfaction.SATISFIED),
    (23, 1, "care", "delivery", 25, 40, satisfaction.SATISFIED),
    (19, 2, "care", "consulting", 8, 30, satisfaction.MOSTLY),
    (16, 3, "repair", "housekeeping", 45, 90, satisfaction.SATISFIED),
    (12, 0, "medical", "training", 15, 60, satisfaction.SATISFIED),
    (9, 1, "repair", "repair", 70, 45, satisfaction.MOSTLY),
    (5, 2, "care", "delivery", 5, 35, satisfaction.SATISFIED),
    (2, 3, "care", "mediation", 20, 55, satisfaction.SATISFIED),
)


class _Clock:
    """A clock the history is written on, moved by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _name(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


def populate_sandbox(server: SandboxServer, language: str) -> District:
    """The people and the groups, in the sandbox; the bot is already a member of every group."""
    code = "zh-hans" if language == "zh" else "en"
    people = server.people
    district = District()

    def person(pair: tuple[str, str], role: str, team: str | None = None, *, phone: str | None = None) -> int:
        user = people.create_user(_name(pair, language), language_code=code, phone_number=phone)
        user.started_bot = True  # they have used the service before: the bot may write to them
        district.people.append(Person(user.id, user.first_name, role, team))
        return user.id

    district.admin = person(ADMIN, "admin")
    coordinators = [person(pair, "coordinator") for pair in COORDINATORS]
    for i, (_, _, leader) in enumerate(BUILDING_LEADERS):
        person(leader, "building_leader", phone=f"+86139000000{i:02d}")
    for i, pair in enumerate(RESIDENTS):
        person(pair, "resident", phone=f"+86138000000{i:02d}")
    centre = people.create_group(_name(("社区志愿服务中心", "Volunteer service centre"), language),
                                 creator=district.admin, members=coordinators)
    district.coordinators_chat = centre.id
    district.groups[centre.id] = centre.title or ""
    district.members[centre.id] = [district.admin, *coordinators]
    for number, (team, names, _, members, _) in enumerate(TEAMS):
        ids = [person(pair, "team_leader" if i == 0 else "volunteer", team, phone=f"+8613700{number}000{i:02d}")
               for i, pair in enumerate(members)]
        group = people.create_group(_name(names, language), creator=coordinators[0], members=ids)
        district.groups[group.id] = group.title or ""
        district.members[group.id] = [coordinators[0], *ids]
    for chat_id in district.groups:
        server.world.chat(chat_id).bot_status = "member"  # added long ago: no "I was added" to answer now
    return district


async def populate_database(engine: AsyncEngine, district: District, config: ServiceConfig, language: str,
                            now: dt.datetime) -> None:
    """The same people in the bot's database — coordinators, teams bound to their groups, approved
    members, team leaders, building leaders — and the history of :data:`HISTORY`, ending before ``now``."""
    clock = _Clock(now - dt.timedelta(days=30))
    sessions = session_factory(engine)
    i18n = I18n()
    by_role = {role: [p for p in district.people if p.role == role] for role in ROLES}
    team_chats = {title: chat for chat, title in district.groups.items() if chat != district.coordinators_chat}
    async with UnitOfWork(sessions, clock=clock) as uow:
        users = {p.id: await uow.users.ensure(p.id, p.name, language) for p in district.people}
        for coordinator in by_role["coordinator"]:
            users[coordinator.id].is_coordinator = True
        ids = {telegram_id: user.id for telegram_id, user in users.items()}
        for number, (code, names, categories, _, skills) in enumerate(TEAMS):
            team = await uow.teams.add(code, _name(names, language), categories)
            await uow.teams.bind_chat(team.id, team_chats[_name(names, language)])
            members = [p for p in district.people if p.team == code]
            for i, member in enumerate(members):
                row = await uow.volunteers.add(ids[member.id], team.id, member.name, f"+8613700{number}000{i:02d}",
                                               community=COMMUNITIES[i % 2], skills=skills)
                await uow.volunteers.decide(row.id, True)
                if member.role == "team_leader":
                    await uow.volunteers.set_leader(ids[member.id], team.id, True)
        for i, (community, building, _) in enumerate(BUILDING_LEADERS):
            found = await uow.buildings.add(f"B{i + 1}", community, building)
            found.leader_id = ids[by_role["building_leader"][i].id]
        await uow.commit()

    async def act(telegram_id: int, service: Any, *args: Any) -> Any:
        async with UnitOfWork(sessions, clock=clock) as uow:
            user = await uow.users.ensure(telegram_id, "", language)
            return await service(service_context(uow, user, i18n=i18n, config=config), *args)

    dispatcher = by_role["coordinator"][0].id
    for days_ago, resident_index, team_code, category, to_accept, to_done, stars in HISTORY:
        clock.now = now - dt.timedelta(days=days_ago, hours=6)
        resident = by_role["resident"][resident_index]
        volunteer = next(p for p in district.people if p.team == team_code and p.role == "volunteer")
        chat = next(chat for chat, ids in district.members.items()
                    if volunteer.id in ids and chat != district.coordinators_chat)
        async with UnitOfWork(sessions, clock=clock) as uow:
            order = await uow.orders.add(
                resident_id=ids[resident.id], status="new", category=category, description="—",
                community=COMMUNITIES[resident_index % 2], building="3栋", address_detail="101",
                when_text="today", contact_name=resident.name, contact_phone=f"+86138000000{resident_index:02d}")
            await uow.commit()
            number = order.id
        await act(dispatcher, dispatch.dispatch, number, team_code)
        clock.now += dt.timedelta(minutes=to_accept)
        await act(volunteer.id, claim.accept, number, chat)
        clock.now += dt.timedelta(minutes=to_done)
        await act(volunteer.id, claim.done, number)
        clock.now += dt.timedelta(hours=2)
        await act(resident.id, rating.rate, number, stars)
        await act(resident.id, rating.skip_comment, number)
    async with UnitOfWork(sessions, clock=clock) as uow:
        await uow.session.execute(delete(OutboxMessage))  # the past's messages: the sandbox never saw it
        await uow.commit()
