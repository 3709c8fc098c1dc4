"""The demo's pre-built district: people and groups in the sandbox, their roles in the bot's
database, and a few weeks of finished, rated requests so /report and the rates have data.

The sandbox side is set up in this process (people, groups, the bot already a member, everyone
has pressed Start). The database side goes through the repositories for the structure (as the
end-to-end tests approve volunteers) and through the services, on a clock moved back by hand, for
the history, so the summaries' triggers see every row. What the history told people is marked
sent before the bot starts: those messages belong to the past, not to the demo's chats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain import satisfaction
from bot.i18n import I18n
from bot.services import claim, dispatch, rating, roles
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from sandbox import SandboxServer
from storage.models import User
from storage.uow import UnitOfWork

RESIDENT, VOLUNTEER, TEAM_LEADER, BUILDING_LEADER, COORDINATOR, ADMIN = (
    "resident", "volunteer", "team_leader", "building_leader", "coordinator", "admin")
ROLE_ORDER = (RESIDENT, VOLUNTEER, TEAM_LEADER, BUILDING_LEADER, COORDINATOR, ADMIN)
HISTORY_DAYS = 28  # the history's first request is this many days before the demo starts


@dataclass(frozen=True)
class TeamPlan:
    code: str
    names: tuple[str, str]  # zh, en
    categories: tuple[str, ...]
    skills: tuple[str, ...]
    volunteers: tuple[tuple[str, str], ...]  # (zh, en) names; the first leads the team


TEAMS = (
    TeamPlan("repair", ("维修队", "Repair team"), ("repair", "housekeeping"), ("repair",),
             (("李师傅", "Master Li"), ("王师傅", "Master Wang"), ("赵强", "Zhao Qiang"), ("孙丽", "Sun Li"))),
    TeamPlan("care", ("助老队", "Elder care"), ("delivery", "housekeeping", "consulting"), ("delivery",),
             (("周敏", "Zhou Min"), ("吴芳", "Wu Fang"), ("郑华", "Zheng Hua"), ("冯静", "Feng Jing"))),
    TeamPlan("medical", ("医疗应急队", "Medical & emergency"), ("emergency", "other"), ("emergency",),
             (("陈医生", "Dr Chen"), ("褚护士", "Nurse Chu"), ("卫东", "Wei Dong"), ("蒋琳", "Jiang Lin"))),
)
ADMIN_NAME = ("张主任", "Director Zhang")
COORDINATORS = (("陈协调", "Coco Chen"), ("刘协调", "Lily Liu"))
BUILDING_LEADERS = (("钱阿姨", "Auntie Qian", "3栋", "Building 3"), ("孙大爷", "Grandpa Sun", "5栋", "Building 5"))
RESIDENTS = (("王阿姨", "Auntie Wang"), ("张大爷", "Grandpa Zhang"), ("刘奶奶", "Granny Liu"), ("黄先生", "Mr Huang"))
COMMUNITY = ("阳光社区", "Sunshine Community")
CENTRE = ("社区志愿服务中心", "Volunteer centre")
# The history: (resident index, team code, category, description zh, description en, stars).
HISTORY = (
    (0, "repair", "repair", "厨房水管漏水", "The kitchen pipe leaks", satisfaction.SATISFIED),
    (1, "care", "delivery", "帮忙买菜", "Please buy vegetables", satisfaction.SATISFIED),
    (2, "medical", "other", "量血压", "Check my blood pressure", satisfaction.MOSTLY),
    (3, "repair", "repair", "门锁坏了", "The door lock is broken", satisfaction.SATISFIED),
    (0, "care", "housekeeping", "打扫卫生", "Help with cleaning", satisfaction.SATISFIED),
    (1, "repair", "repair", "灯不亮了", "The light is out", satisfaction.MOSTLY),
    (2, "care", "consulting", "办理社保咨询", "Questions about my pension", satisfaction.SATISFIED),
    (3, "medical", "other", "陪同去医院", "Go with me to the hospital", satisfaction.SATISFIED),
)


@dataclass(frozen=True)
class Member:
    """One person of the district as the page lists them."""

    telegram_id: int
    name: str
    role: str
    chats: tuple[int, ...]  # the groups they are in (their private chat is their own id)


@dataclass
class District:
    """What was built: the people by role and the groups' titles."""

    admin: int
    coordinators_chat: int
    members: list[Member] = field(default_factory=list)
    groups: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"groups": [{"id": chat_id, "title": title} for chat_id, title in self.groups.items()],
                "people": [{"id": m.telegram_id, "name": m.name, "role": m.role, "chats": list(m.chats)}
                           for m in self.members]}


class SeedClock:
    """The history's clock: moved by hand, so back-dated requests carry their own times."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


def build_chats(server: SandboxServer, language: str) -> tuple[District, dict[str, Any]]:
    """The people and groups in the sandbox; returns the district and the plan the database needs."""
    pick = 0 if language == "zh" else 1
    code = "zh-hans" if language == "zh" else "en"
    people = server.people
    phones = iter(f"+86139{n:08d}" for n in range(10_000_001, 10_000_100))

    def person(names: tuple[str, ...]) -> int:
        created = people.create_user(names[pick], language_code=code, phone_number=next(phones))
        created.started_bot = True  # everyone has opened the bot's chat once
        return created.id

    admin = person(ADMIN_NAME)
    coordinators = [person(names) for names in COORDINATORS]
    centre = people.create_group(CENTRE[pick], creator=admin, members=coordinators)
    centre.bot_status = "member"
    district = District(admin=admin, coordinators_chat=centre.id, groups={centre.id: centre.title or ""})
    district.members.append(Member(admin, ADMIN_NAME[pick], ADMIN, (centre.id,)))
    district.members += [Member(c, COORDINATORS[i][pick], COORDINATOR, (centre.id,))
                         for i, c in enumerate(coordinators)]
    teams: list[dict[str, Any]] = []
    for plan in TEAMS:
        members = [person(names) for names in plan.volunteers]
        group = people.create_group(plan.names[pick], creator=coordinators[0], members=members)
        group.bot_status = "member"
        district.groups[group.id] = group.title or ""
        for index, telegram_id in enumerate(members):
            role = TEAM_LEADER if index == 0 else VOLUNTEER
            district.members.append(Member(telegram_id, plan.volunteers[index][pick], role, (group.id,)))
        teams.append({"plan": plan, "chat": group.id, "members": members})
    leaders = [(person(names[:2]), names[2 + pick]) for names in BUILDING_LEADERS]
    district.members += [Member(t, BUILDING_LEADERS[i][pick], BUILDING_LEADER, ()) for i, (t, _b) in enumerate(leaders)]
    residents = [person(names) for names in RESIDENTS]
    district.members += [Member(t, RESIDENTS[i][pick], RESIDENT, ()) for i, t in enumerate(residents)]
    server.world.notify()
    seed_plan = {"coordinators": coordinators, "teams": teams, "leaders": leaders, "residents": residents,
                 "pick": pick, "admin": admin}
    return district, seed_plan


async def seed_database(uow: Callable[[], UnitOfWork], clock: SeedClock, server: SandboxServer,
                        plan: dict[str, Any], *, config: ServiceConfig, language: str) -> None:
    """Roles and teams through the repositories, then the history through the services."""
    pick, i18n = plan["pick"], I18n()
    names = {p.id: p.first_name for p in server.world.people.values()}
    community = COMMUNITY[pick]

    async def acting(telegram_id: int) -> tuple[UnitOfWork, User]:
        unit = uow()
        await unit.__aenter__()
        return unit, await unit.users.ensure(telegram_id, names[telegram_id], language)

    async def act(telegram_id: int, service: Any, *args: Any) -> None:
        unit, user = await acting(telegram_id)
        try:
            await service(service_context(unit, user, i18n=i18n, config=config), *args)
        finally:
            await unit.__aexit__(None, None, None)

    async with uow() as unit:
        for telegram_id in names:
            await unit.users.ensure(telegram_id, names[telegram_id], language)
        for telegram_id in plan["coordinators"]:
            user = await unit.users.by_telegram_id(telegram_id)
            assert user is not None
            user.is_coordinator = True
        for team in plan["teams"]:
            team_plan: TeamPlan = team["plan"]
            row = await unit.teams.add(team_plan.code, team_plan.names[pick], list(team_plan.categories))
            await unit.teams.bind_chat(row.id, team["chat"])
            team["id"] = row.id
            for index, telegram_id in enumerate(team["members"]):
                user = await unit.users.by_telegram_id(telegram_id)
                assert user is not None
                phone = server.world.people[telegram_id].phone_number or ""
                volunteer = await unit.volunteers.add(user.id, row.id, names[telegram_id], phone, community=community,
                                                      skills=list(team_plan.skills))
                await unit.volunteers.decide(volunteer.id, True)
                if index == 0:
                    await unit.volunteers.set_leader(user.id, row.id, True)
        for number, (telegram_id, building_name) in enumerate(plan["leaders"], start=3):
            building = await unit.buildings.add(f"B{number}", community, building_name)
            user = await unit.users.by_telegram_id(telegram_id)
            assert user is not None
            building.leader_id = user.id
        await unit.commit()

    teams = {team["plan"].code: team for team in plan["teams"]}
    coordinator = plan["coordinators"][0]
    for step, (resident_index, team_code, category, zh, en, stars) in enumerate(HISTORY):
        clock.now = clock.now.replace(hour=2, minute=0) + dt.timedelta(days=3)
        resident = plan["residents"][resident_index]
        team = teams[team_code]
        volunteer = team["members"][step % len(team["members"])]
        async with uow() as unit:
            user = await unit.users.ensure(resident, names[resident], language)
            order = await unit.orders.add(
                resident_id=user.id, status="new", category=category, description=(zh, en)[pick],
                community=community, building="3栋" if pick == 0 else "Building 3", address_detail="402",
                when_text="today", contact_name=names[resident],
                contact_phone=server.world.people[resident].phone_number or "")
            await unit.commit()
            number = order.id
        clock.advance(5)
        await act(coordinator, dispatch.dispatch, number, team_code)
        clock.advance(15 + 5 * step)
        await act(volunteer, claim.accept, number, team["chat"])
        clock.advance(70)
        await act(volunteer, claim.done, number)
        await act(volunteer, claim.record_hours, number, "1.5")
        clock.advance(30)
        await act(resident, rating.rate, number, stars)
        await act(resident, rating.skip_comment, number)
    async with uow() as unit:  # an activity the care team held, in the ledger
        care = teams["care"]
        for telegram_id in care["members"][:3]:
            user = await unit.users.ensure(telegram_id, names[telegram_id], language)
            await unit.ledger.add(user.id, "activity", 120, clock.now - dt.timedelta(days=7), team_id=care["id"])
        await unit.commit()


async def settle(uow: Callable[[], UnitOfWork], clock: SeedClock, now: dt.datetime, district: District, *,
                 config: ServiceConfig) -> None:
    """The history's messages count as delivered long ago; then each role holder's command menu
    is queued for the bot to set when it starts."""
    clock.now = now
    async with uow() as unit:
        for row in await unit.outbox.due(now + dt.timedelta(days=1), 100_000):
            await unit.outbox.mark_sent(row.id, row.chat_id, None)
        await unit.commit()
    i18n = I18n()
    async with uow() as unit:
        for member in district.members:
            if member.role != RESIDENT:
                user = await unit.users.by_telegram_id(member.telegram_id)
                assert user is not None
                await roles.refresh_menu(service_context(unit, user, i18n=i18n, config=config), user,
                                         announce=False)
        await unit.commit()
