"""The lifecycle property test's world: a centre, two teams, residents, volunteers and a stranger on
a test database, and the commands they can give — each played through the public services
(``request``, ``dispatch``, ``claim``, ``rating``) or the schedule's sweep, one unit of work per
command, as a handler would call them.

Commands name people and orders indirectly (``order`` is an index into the orders placed so far in
the example), so a generated list of commands is meaningful on any database and reads well when
Hypothesis prints a failing example.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain.errors import DomainError
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import claim, dispatch, rating, request
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.schedule import rules
from bot.services.schedule.sweep import Sweeper
from bot.services.wiring import service_context
from bot.settings import Settings, TelegramSettings
from storage.db import session_factory
from storage.models import Base, Volunteer
from storage.uow import UnitOfWork
from tests.support.botdeps import make_deps
from tests.support.dbfixtures import FakeClock

I18N = I18n()
# 17:30 in Shanghai: the first minutes are outside quiet hours; waiting takes the world through them.
START = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
CENTRE_CHAT = -100
TEAM_CHATS = {"alpha": -501, "bravo": -502}
TEAM_NAMES = {"alpha": "Alpha", "bravo": "Bravo"}
# Who is who: Telegram ids. Alma and Amos are approved members of team alpha, Ben of team bravo;
# Amos asks for help too (so a volunteer meets their own request); Stan belongs to no team.
PEOPLE = {"coco": 11, "rita": 21, "alma": 31, "amos": 32, "ben": 41, "stan": 51}
MEMBERS = {"alma": "alpha", "amos": "alpha", "ben": "bravo"}
COORDINATOR = "coco"
RESIDENTS = ("rita", "amos")
MISSING_ORDER = 2_000_000_000  # what an order reference means before any order is placed
# Roles a command may name instead of a person, resolved when it is played: the order's volunteer
# (Alma when it has none) and the order's resident.
HOLDER, ITS_RESIDENT = "holder", "its resident"


@dataclass(frozen=True)
class Place:
    """``who`` writes a request step by step and taps Confirm (the Confirm is the command)."""

    who: str
    urgent: bool = False
    day: str = "today"


@dataclass(frozen=True)
class Act:
    """``who`` taps a button (or sends a command) about order number ``order`` of this example;
    ``arg``: the team for dispatch, the team's group for accept, the stars for rate."""

    verb: str
    who: str
    order: int = 0
    arg: str | int | None = None


@dataclass(frozen=True)
class Wait:
    """Time passes; the sweep then runs the schedule rows that are due (leases, escalation, rating)."""

    minutes: int


@dataclass(frozen=True)
class Replay:
    """The previous command again (a double tap, a retried update)."""


Played = Place | Act | Wait  # what a Replay stands for
Command = Played | Replay
Service = Callable[[ServiceContext, int, Any], Awaitable[object]]
SERVICES: dict[str, Service] = {
    "dispatch": lambda ctx, number, team: dispatch.dispatch(ctx, number, str(team)),
    "reject": lambda ctx, number, _: dispatch.reject(ctx, number, "duplicate"),
    "accept": lambda ctx, number, team: claim.accept(ctx, number, TEAM_CHATS[str(team)]),
    "release": lambda ctx, number, _: claim.release(ctx, number),
    "on_way": lambda ctx, number, _: claim.on_my_way(ctx, number),
    "done": lambda ctx, number, _: claim.done(ctx, number),
    "keep": lambda ctx, number, _: claim.keep(ctx, number),
    "rate": lambda ctx, number, stars: rating.rate(ctx, number, int(stars or 0)),
    "cancel": lambda ctx, number, _: request.cancel(ctx, number),
}


def settings() -> Settings:
    return Settings(telegram=TelegramSettings(token=SecretStr("1:x")), coordinators_chat_id=CENTRE_CHAT,
                    default_language="en")


@dataclass
class World:
    """One example's world; :meth:`reset` empties the database and seeds the cast again."""

    engine: AsyncEngine
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))

    def __post_init__(self) -> None:
        self.sessions: async_sessionmaker[Any] = session_factory(self.engine)
        deps = make_deps(settings(), self.engine, self.clock)
        self.config: ServiceConfig = deps.config
        self.sweeper = Sweeper(deps, rules.HANDLERS, batch_size=deps.settings.reminders.batch_size)
        self.orders: list[int] = []
        self.confirming: dict[str, tuple[int, str]] = {}  # a person's draft at its summary, their confirm choice
        self.last: Played | None = None
        self.user_ids: dict[str, int] = {}
        self.team_ids: dict[str, int] = {}

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, clock=self.clock)

    async def reset(self) -> None:
        """Every table emptied (the schema stays), the clock back at the start, the cast seeded."""
        self.clock.now, self.orders, self.last, self.confirming = START, [], None, {}
        async with self.uow() as uow:
            for table in reversed(Base.metadata.sorted_tables):
                await uow.session.execute(delete(table))
            await uow.summaries.rebuild()  # the measures' summaries of nothing, their clock set
            await uow.commit()
        async with self.uow() as uow:
            for name, telegram_id in PEOPLE.items():
                user = await uow.users.ensure(telegram_id, name.title(), "en")
                user.is_coordinator = name == COORDINATOR
                self.user_ids[name] = user.id
            for code, chat_id in TEAM_CHATS.items():
                team = await uow.teams.add(code, TEAM_NAMES[code], ["repair", "emergency"])
                await uow.teams.bind_chat(team.id, chat_id)
                self.team_ids[code] = team.id
            for name, code in MEMBERS.items():
                uow.session.add(Volunteer(user_id=self.user_ids[name], team_id=self.team_ids[code], name=name.title(),
                                          phone="+8613900000000", status="approved", created_at=uow.now()))
            await uow.commit()

    def order_id(self, index: int) -> int:
        return self.orders[index % len(self.orders)] if self.orders else MISSING_ORDER

    async def call(self, who: str, service: Callable[..., Awaitable[object]], *args: object) -> object:
        """One update of ``who``'s: the service in its own unit of work (services commit themselves)."""
        async with self.uow() as uow:
            user = await uow.users.ensure(PEOPLE[who], who.title(), "en")
            return await service(service_context(uow, user, i18n=I18N, config=self.config), *args)

    async def write_request(self, command: Place) -> None:
        """The dialog up to the summary (each step commits, as in the bot; a person's second request
        skips what is remembered); Confirm is the command."""
        who = command.who
        await self.call(who, request.begin)
        draft = (await self._dialog(who))["draft"]
        await self.call(who, request.choose_category, draft, "emergency" if command.urgent else "repair")
        answers = {"description": "the kitchen tap leaks", "community": "Sunny Garden", "building": "3",
                   "detail": "501", "where": "Sunny Garden 3-501", "contact": "13800138000"}
        while (step := await self._step(who)) != "summary":
            await self.call(who, request.handle_input, step, await self._dialog(who), Input(text=answers[step]))
        self.confirming[who] = (draft, "now" if command.urgent else command.day)

    async def _step(self, who: str) -> str:
        async with self.uow() as uow:
            dialog = await uow.dialogs.get(self.user_ids[who])
            assert dialog is not None and dialog.flow == request.FLOW
            return dialog.step

    async def _dialog(self, who: str) -> dict[str, Any]:
        async with self.uow() as uow:
            dialog = await uow.dialogs.get(self.user_ids[who])
            assert dialog is not None and dialog.flow == request.FLOW
            return dict(dialog.data)

    async def confirm(self, who: str) -> None:
        number = await self.call(who, request.confirm, *self.confirming[who])
        assert isinstance(number, int)
        self.orders.append(number)

    async def sweep(self, minutes: int) -> None:
        self.clock.advance(minutes * 60)
        await self.sweeper.sweep()

    async def resolve(self, command: Act) -> Act:
        """The command with a person in place of a role (:data:`HOLDER`, :data:`ITS_RESIDENT`)."""
        if command.who not in (HOLDER, ITS_RESIDENT):
            return command
        async with self.uow() as uow:
            order = await uow.orders.get(self.order_id(command.order))
            user_id = None if order is None else order.volunteer_id if command.who == HOLDER else order.resident_id
        names = {user: name for name, user in self.user_ids.items()}
        return replace(command, who=names.get(user_id or 0, "alma"))

    async def act(self, command: Act) -> None:
        await self.call(command.who, SERVICES[command.verb], self.order_id(command.order), command.arg)

    async def refusal_of(self, play: Awaitable[None]) -> str | None:
        """None when the command went through, else the name of the :class:`DomainError` it raised."""
        try:
            await play
        except DomainError as refusal:
            return type(refusal).__name__
        return None
