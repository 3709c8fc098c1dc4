"""The resident's request dialog as a property (issue 12, item 3): random taps — the current
draft's buttons of every step and stale ones (an earlier draft's, another step's) — typed texts,
voice notes, photos and shared contacts, by a resident who came with no link and one who came by a
building's link, against a real database (SQLite; PostgreSQL too with ``TEST_DATABASE_URL``).
After every input:

* nothing escapes but our translated refusals (a :class:`DomainError` whose msgid has a Chinese
  translation), which the adapter answers the tap with;
* a refused input changed nothing (the dialog, the orders, the person's memory);
* the dialog waits at the first unanswered question, or — only with every answer there — at the
  summary, the edit menu, the typed time or a question being edited: never further on;
* every order placed has all its fields (the historic bug: an old "Tomorrow" tapped during the
  description skipped the address, and Confirm raised ``KeyError: 'community'``), urgent exactly
  when it is an emergency, and an order was placed exactly when Confirm went through.

Hypothesis runs in a worker thread and hands each example to the test's event loop (as
``tests/service/lifecycle`` does); derandomized, the same examples on every run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.domain import request_steps
from bot.domain.errors import DomainError
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import request
from bot.services.context import RequestLimitConfig, ServiceConfig
from bot.services.wiring import service_context
from storage.db import session_factory
from storage.models import Base, Order, User
from storage.uow import UnitOfWork
from tests.support.dbfixtures import FakeClock

I18N = I18n()
CONFIG = ServiceConfig(categories=("repair", "emergency", "delivery"), coordinators_chat_id=-100,
                       requests=RequestLimitConfig(open_per_resident=50, per_minute=50, per_hour=50))
RITA, LINKED = 31, 32  # Rita came with no link; the other by building 3's link
EXAMPLES = {"sqlite": 40, "postgresql": 12}
TEXTS = ("厨房水管漏水", "阳光社区", "3号楼2单元", "402室", "13800138000", "周六上午9点", "Today", "明天", "", "   ",
         "x" * 1001, "<b>hi</b>")


@dataclass(frozen=True)
class Tap:
    """A button of the resident's draft ``age`` drafts ago (0: the current one, 5: one never made)."""

    who: int
    action: str
    arg: str
    age: int


@dataclass(frozen=True)
class Send:
    who: int
    inp: Input


@dataclass(frozen=True)
class Begin:
    who: int


Step = Tap | Send | Begin
PEOPLE = st.sampled_from((RITA, LINKED))
TAPS = st.one_of(
    st.tuples(st.just("category"), st.sampled_from(("repair", "emergency", "delivery", "nope"))),
    st.tuples(st.just("confirm"), st.sampled_from(request_steps.WHEN_CHOICES)),
    st.tuples(st.sampled_from(("other_time", "other_address", "edit", "abort")), st.just("")),
    st.tuples(st.just("edit_field"), st.sampled_from(request_steps.EDITABLE)),
)
INPUTS = st.one_of(
    st.builds(Input, text=st.sampled_from(TEXTS) | st.text(max_size=20)),
    st.builds(Input, voice_file_id=st.just("voice-1")),
    st.builds(Input, photo_file_id=st.just("photo-1"), text=st.sampled_from((None, "看这里", ""))),
    st.builds(Input, contact_phone=st.just("+8613800000009"), contact_name=st.just("Rita"), contact_own=st.just(True)),
)
STEPS = st.one_of(
    st.builds(Begin, PEOPLE),
    st.builds(lambda who, tap, age: Tap(who, tap[0], tap[1], age), PEOPLE, TAPS, st.sampled_from((0, 0, 0, 1, 5))),
    st.builds(Send, PEOPLE, INPUTS),
)
# The whole way, tap by tap, for each person, twice (the second time remembered), then an emergency.
TOUR: list[Step] = [
    step for who in (RITA, LINKED) for step in (
        Begin(who), Tap(who, "category", "repair", 0), Send(who, Input(text="厨房水管漏水")),
        Send(who, Input(text="阳光社区")), Send(who, Input(text="3号楼2单元")), Send(who, Input(text="402室")),
        Send(who, Input(contact_phone="+8613800000009", contact_own=True)), Tap(who, "confirm", "tomorrow", 0),
        Begin(who), Tap(who, "category", "delivery", 0), Send(who, Input(photo_file_id="photo-1")),
        Tap(who, "other_time", "", 0), Send(who, Input(text="周六上午9点")), Tap(who, "confirm", "set", 0),
        Begin(who), Tap(who, "category", "emergency", 0), Send(who, Input(voice_file_id="voice-1")),
        Tap(who, "confirm", "now", 0))
]
# The historic bug: an earlier draft's "Today" during the description, then Confirm.
STALE_TOUR: list[Step] = [Begin(RITA), Tap(RITA, "category", "repair", 0), Begin(RITA),
                          Tap(RITA, "category", "repair", 0), Tap(RITA, "confirm", "today", 1),
                          Tap(RITA, "confirm", "today", 0),
                          Send(RITA, Input(text="漏水")), Tap(RITA, "confirm", "tomorrow", 0)]


class Dialog:
    """The database and the resident's side of the bot, one unit of work per input."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions: async_sessionmaker[Any] = session_factory(engine)
        self.clock = FakeClock()
        self.stale = False  # the last tap was a button of another draft than the open one

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, clock=self.clock)

    async def reset(self) -> None:
        async with self.uow() as uow:
            await uow.session.execute(update(User).values(building_id=None))  # users and buildings name each other
            for table in reversed(Base.metadata.sorted_tables):
                await uow.session.execute(delete(table))
            await uow.summaries.rebuild()  # the measures' summaries of nothing, their clock set
            building = await uow.buildings.add("b3", "阳光社区", "3号楼")
            for telegram_id in (RITA, LINKED):
                user = await uow.users.ensure(telegram_id, f"P{telegram_id}", "zh")
                user.building_id = building.id if telegram_id == LINKED else None
            await uow.commit()

    async def state(self, who: int) -> tuple[str | None, dict[str, Any], int, tuple[object, ...]]:
        """The person's dialog step and draft, their orders' count and their memory."""
        async with self.uow() as uow:
            user = await uow.users.ensure(who, f"P{who}", "zh")
            dialog = await uow.dialogs.get(user.id)
            orders = len(await uow.orders.of_resident(user.id))
            memory = (user.home_name, user.home_phone, user.home_community, user.home_building, user.home_detail)
            if dialog is None or dialog.flow != request.FLOW:
                return None, {}, orders, memory
            return dialog.step, dict(dialog.data), orders, memory

    async def play(self, step: Step) -> DomainError | None:
        async with self.uow() as uow:
            user = await uow.users.ensure(step.who, f"P{step.who}", "zh")
            ctx = service_context(uow, user, i18n=I18N, config=CONFIG)
            try:
                if isinstance(step, Begin):
                    await request.begin(ctx)
                elif isinstance(step, Send):
                    dialog = await uow.dialogs.get(user.id)
                    if dialog is not None and dialog.flow == request.FLOW:
                        await request.handle_input(ctx, dialog.step, dict(dialog.data), step.inp)
                else:
                    await self.tap(ctx, step, user)
            except DomainError as refusal:
                return refusal
        return None

    async def tap(self, ctx: Any, step: Tap, user: User) -> None:
        number = max(1, user.request_drafts - step.age) if step.age < 5 else user.request_drafts + 1
        self.stale = number != user.request_drafts
        if step.action == "category":
            await request.choose_category(ctx, number, step.arg)
        elif step.action == "confirm":
            await request.confirm(ctx, number, step.arg)
        elif step.action == "edit_field":
            await request.edit_field(ctx, number, step.arg)
        else:
            await {"other_time": request.other_time, "other_address": request.other_address,
                   "edit": request.edit, "abort": request.abandon}[step.action](ctx, number)

    async def orders(self) -> list[Order]:
        async with self.uow() as uow:
            found = list((await uow.session.scalars(select(Order))).all())
            uow.session.expunge_all()
            return found


def step_problems(step: str | None, draft: dict[str, Any]) -> list[str]:
    """Where the dialog waits, checked against its draft."""
    if step is None or step == request_steps.next_step(draft):
        return []
    if request_steps.complete(draft) and step in {"edit", "when_text", *request_steps.steps_for(draft)}:
        return []  # editing a finished draft
    return [f"waits at {step!r}, yet the first unanswered question is {request_steps.next_step(draft)!r}: {draft}"]


def order_problems(order: Order) -> list[str]:
    problems = [f"#{order.id} lacks {name}" for name, value in (
        ("category", order.category), ("address", order.address_detail), ("phone", order.contact_phone),
        ("name", order.contact_name), ("time", order.when_text),
        ("description", order.description or order.voice_file_id or order.photo_file_id)) if not value]
    if order.category != request_steps.EMERGENCY and not (order.community and order.building):
        problems.append(f"#{order.id} lacks its community or building")
    if order.urgent != (order.category == request_steps.EMERGENCY):
        problems.append(f"#{order.id} urgent={order.urgent} for {order.category}")
    return problems


async def play(dialog: Dialog, script: list[Step]) -> None:
    await dialog.reset()
    for index, step in enumerate(script):
        where = f"input {index}: {step!r}\nscript: {script!r}"
        before = await dialog.state(step.who)
        dialog.stale = False
        refusal = await dialog.play(step)
        after = await dialog.state(step.who)
        if refusal is not None:
            assert I18N.gettext("zh", refusal.message) != refusal.message, f"{where}\nuntranslated: {refusal.message}"
            assert after == before, f"{where}\nrefused ({refusal.message}) yet changed {before} → {after}"
        problems = step_problems(after[0], after[1])
        placed = after[2] - before[2]
        confirmed = isinstance(step, Tap) and step.action == "confirm" and refusal is None
        if placed != int(confirmed):
            problems.append(f"{placed} order(s) placed, confirm went through: {confirmed}")
        if confirmed and after[0] is not None:
            problems.append(f"the dialog is still open after Confirm, at {after[0]}")
        if dialog.stale and refusal is None:
            problems.append("a button of another draft went through")
        for order in await dialog.orders():
            problems += order_problems(order)
        assert not problems, f"{where}\n" + "\n".join(problems)


async def test_random_taps_and_inputs_never_break_the_dialog(engine: AsyncEngine) -> None:
    dialog, loop = Dialog(engine), asyncio.get_running_loop()

    @hypothesis.settings(max_examples=EXAMPLES[engine.dialect.name], deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
                         suppress_health_check=list(hypothesis.HealthCheck), print_blob=False)
    @hypothesis.given(st.lists(STEPS, min_size=5, max_size=30))
    @hypothesis.example(TOUR)
    @hypothesis.example(STALE_TOUR)
    def run(script: list[Step]) -> None:
        asyncio.run_coroutine_threadsafe(play(dialog, script), loop).result()

    await asyncio.to_thread(run)
