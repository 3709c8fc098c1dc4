"""Schedule test helpers: sweepers over the test database with the real handlers of
``bot.services.schedule.rules``, and orders whose reminders are due, written straight into the tables.

No Telegram here: a sweep's whole effect is rows (schedule states and outbox messages), which is
what these tests count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.adapters.context import Deps
from bot.services import timetable
from bot.services.schedule import rules
from bot.services.schedule.sweep import Handler, Sweeper, system_user
from bot.settings import Settings
from storage.models import Order, OutboxMessage, ScheduledItem, User

CENTRE_CHAT = -100_000_000_001  # the coordinators' group: step 3 of the ladder and the 2nd overdue nudge go there
ORDER_FIELDS: dict[str, Any] = {"category": "repair", "community": "Maple Court", "when_text": "today",
                                "contact_name": "Ann", "contact_phone": "+8613800000000", "description": "leak"}


def make_settings(database_url: str) -> Settings:
    return Settings(database={"url": database_url}, coordinators_chat_id=CENTRE_CHAT)


def make_sweeper(deps: Deps, handlers: Mapping[str, Handler] = rules.HANDLERS, *,
                 batch_size: int | None = None) -> Sweeper:
    return Sweeper(deps, handlers, batch_size=batch_size or deps.settings.reminders.batch_size)


@dataclass(frozen=True)
class Seeded:
    """Orders written straight into the tables: ``orders[i]`` belongs to ``residents[i]`` and, when
    it has one, ``volunteers[i]`` (every order its own people, so outbox rows count per order)."""

    orders: list[int]
    residents: list[int]
    volunteers: list[int]


async def seed_orders(deps: Deps, count: int, *, status: str, kind: str | None = None, step: int = 1,
                      due_at: dt.datetime | None = None, with_volunteer: bool = True, base: int = 0,
                      **fields: Any) -> Seeded:
    """``count`` orders in ``status`` (each with its resident and volunteer), and, with ``kind``,
    one pending schedule item each at ``step``, due at ``due_at`` (default: now); ``fields`` are
    more order columns. Bulk inserts, so a thousand take a moment on either backend."""
    now = deps.clock()
    async with deps.uow() as uow:
        session = uow.session

        async def users(first: int, name: str) -> list[int]:
            rows = [{"telegram_id": first + i, "first_name": f"{name}{i}", "created_at": now} for i in range(count)]
            return list(await session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows))

        residents = await users(7_000_000_000 + base, "resident")
        volunteers = await users(8_000_000_000 + base, "volunteer") if with_volunteer else []
        rows = [{**ORDER_FIELDS, "status": status, "resident_id": resident,
                 "volunteer_id": volunteers[i] if with_volunteer else None, "created_at": now, "updated_at": now,
                 **fields} for i, resident in enumerate(residents)]
        orders = list(await session.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows))
        if kind is not None:
            recipient = volunteers if kind in (timetable.OVERDUE, timetable.LEASE, timetable.APPOINTMENT) \
                else residents
            await session.execute(insert(ScheduledItem), [
                {"kind": kind, "order_id": order, "user_id": recipient[i] if recipient else None, "step": step,
                 "due_at": due_at or now, "state": "pending", "attempts": 0, "created_at": now}
                for i, order in enumerate(orders)])
        await uow.commit()
    return Seeded(orders, residents, volunteers)


async def add_team(deps: Deps, code: str, chat_id: int | None, categories: Sequence[str] = ("repair",)) -> int:
    async with deps.uow() as uow:
        team = await uow.teams.add(code, f"team {code}", list(categories))
        team.chat_id = chat_id
        await uow.commit()
        return team.id


async def moved(deps: Deps, order_id: int) -> None:
    """What an order service does with every status change: ``timetable.order_moved`` in its transaction."""
    async with deps.uow() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        await timetable.order_moved(deps.service_context(uow, system_user()),
                                    order)
        await uow.commit()


async def items(deps: Deps, *, kind: str | None = None, order_id: int | None = None) -> list[ScheduledItem]:
    """Every schedule row (of ``kind``, of ``order_id``), by id."""
    statement = select(ScheduledItem).order_by(ScheduledItem.id)
    if kind is not None:
        statement = statement.where(ScheduledItem.kind == kind)
    if order_id is not None:
        statement = statement.where(ScheduledItem.order_id == order_id)
    return await _read(deps, statement)


async def outbox(deps: Deps) -> list[OutboxMessage]:
    return await _read(deps, select(OutboxMessage).order_by(OutboxMessage.id))


async def _read(deps: Deps, statement: Any) -> list[Any]:
    """The rows, still readable after the session (its commit keeps them loaded; a rollback would expire them)."""
    async with deps.uow() as uow:
        rows = list(await uow.session.scalars(statement))
        await uow.commit()
    return rows


async def sends_per_recipient(deps: Deps) -> dict[int | None, int]:
    """Outbox sends grouped by recipient user id (edits are not messages of their own)."""
    async with deps.uow() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.recipient_user_id, func.count()).where(OutboxMessage.kind == "send")
            .group_by(OutboxMessage.recipient_user_id))
        return {recipient: n for recipient, n in rows.all()}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)
