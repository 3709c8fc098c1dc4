"""Lists a page at a time (bot.views.lists.ListsView.send, bot.services.lists) through the real
services, without Telegram, on SQLite and PostgreSQL: every page fits a message, the pages hold
every item once, a page button is re-checked against who taps it and where.
How a line too long for a page is cut: tests/unit/test_list_pages.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import Conflict, DomainError, NotAllowed
from bot.i18n import I18n
from bot.services import dispatch, lists
from bot.services.context import ServiceConfig, ServiceContext
from bot.services.wiring import service_context
from bot.views import callbacks as cb
from bot.views.lists import Listing
from storage.models import OutboxMessage
from tests.support.dbfixtures import UowFactory

I18N = I18n()
COORDINATOR, RESIDENT, CENTRE, TEAM_GROUP = 31, 32, -100, -500
CONFIG = ServiceConfig(categories=("repair",), coordinators_chat_id=CENTRE, default_language="en")
TELEGRAM_LIMIT = 4096


async def act(uow_factory: UowFactory, telegram_id: int, action: Any, *args: Any, **kwargs: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"p{telegram_id}", "en")
        user.is_coordinator = telegram_id == COORDINATOR
        return await action(service_context(uow, user, i18n=I18N, config=CONFIG), *args, **kwargs)


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    chat_id: int
    target_id: int | None
    payload: dict[str, Any]


async def rows(uow_factory: UowFactory) -> list[Row]:
    """The outbox, oldest first."""
    async with uow_factory() as uow:
        found = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [Row(r.id, r.kind, r.chat_id, r.target_id, dict(r.payload)) for r in found]


def buttons(payload: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in (payload.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


@pytest.fixture
async def many_orders(uow_factory: UowFactory) -> list[int]:
    async with uow_factory() as uow:
        resident = await uow.users.ensure(RESIDENT, "Rita", "en")
        numbers = [(await uow.orders.add(
            resident_id=resident.id, status="new", category="repair", description="leak",
            community=f"<Sunshine> & Garden Phase {i:03d} North Gate Residential Compound", building="3",
            address_detail="501", when_text="today", contact_name="Rita", contact_phone="+8613800000001")).id
            for i in range(150)]
        await uow.commit()
    return numbers


async def test_orders_are_paged_within_telegrams_limit_and_every_page_turns(uow_factory: UowFactory,
                                                                             many_orders: list[int]) -> None:
    await act(uow_factory, COORDINATOR, dispatch.list_open, COORDINATOR)
    [listing] = await rows(uow_factory)
    assert listing.chat_id == COORDINATOR and listing.payload["list"] == {"kind": "orders"}
    assert buttons(listing.payload) == [f"page:{listing.id}:1"]
    pages = int(re.findall(r"(\d+)", listing.payload["text"].splitlines()[-1])[-1])
    assert pages >= 3
    seen, texts = [], [listing.payload["text"]]
    for page in range(1, pages):
        await act(uow_factory, COORDINATOR, lists.turn_page, listing.id, page, COORDINATOR)
        edit = (await rows(uow_factory))[-1]
        assert edit.kind == "edit" and edit.target_id == listing.id
        expected = [f"page:{listing.id}:{page - 1}"] + ([f"page:{listing.id}:{page + 1}"] if page < pages - 1 else [])
        assert buttons(edit.payload) == expected
        texts.append(edit.payload["text"])
    for text in texts:
        assert len(text) <= TELEGRAM_LIMIT and "&lt;Sunshine&gt; &amp;" in text
        seen += [int(n) for n in re.findall(r"^#(\d+)", text, flags=re.MULTILINE)]
    assert seen == many_orders
    assert all(len(data.encode()) <= cb.MAX_BYTES for data in buttons(listing.payload))


async def test_a_page_button_is_checked_against_who_taps_it_and_where(uow_factory: UowFactory,
                                                                      many_orders: list[int]) -> None:
    await act(uow_factory, COORDINATOR, dispatch.list_open, COORDINATOR)
    [listing] = await rows(uow_factory)
    with pytest.raises(Conflict):  # the list is in someone else's chat
        await act(uow_factory, RESIDENT, lists.turn_page, listing.id, 1, RESIDENT)
    with pytest.raises(NotAllowed):  # the right chat, but no longer a coordinator
        await act(uow_factory, RESIDENT, lists.turn_page, listing.id, 1, COORDINATOR)
    async with uow_factory() as uow:
        plain_message = (await uow.outbox.send(COORDINATOR, {"text": "not a list"})).id
        await uow.commit()
    # a message that is no list, one that does not exist, one no database could hold
    for row_id in (plain_message, listing.id + 1000, 2**31, 9223372036854775808):
        with pytest.raises(Conflict):
            await act(uow_factory, COORDINATOR, lists.turn_page, row_id, 1, COORDINATOR)
    # a page far beyond the end shows the last page
    await act(uow_factory, COORDINATOR, lists.turn_page, listing.id, 999, COORDINATOR)
    assert buttons((await rows(uow_factory))[-1].payload) == [f"page:{listing.id}:{_last(listing) - 1}"]


def _last(listing: Row) -> int:
    return int(re.findall(r"(\d+)", listing.payload["text"].splitlines()[-1])[-1]) - 1


async def test_lists_asked_for_in_a_team_group_go_privately(uow_factory: UowFactory, many_orders: list[int]) -> None:
    async with uow_factory() as uow:  # the coordinator has received a message before: reachable
        row = await uow.outbox.send(COORDINATOR, {"text": "hello"})
        await uow.outbox.mark_sent(row.id, COORDINATOR, 1)
        await uow.commit()
    await act(uow_factory, COORDINATOR, dispatch.list_open, TEAM_GROUP)
    group = [r for r in await rows(uow_factory) if r.chat_id == TEAM_GROUP]
    private = [r for r in await rows(uow_factory) if r.chat_id == COORDINATOR and "list" in r.payload]
    assert [r.payload["text"] for r in group] == ["p31, I sent the list to our private chat."]
    assert len(private) == 1
    # The centre's own chat keeps /orders; a list in a group other than the centre's is never paged there.
    await act(uow_factory, COORDINATOR, dispatch.list_open, CENTRE)
    centre = [r for r in await rows(uow_factory) if r.chat_id == CENTRE]
    assert len(centre) == 1 and centre[0].payload["list"] == {"kind": "orders"}
    await act(uow_factory, COORDINATOR, lists.turn_page, centre[0].id, 1, CENTRE)


async def test_a_team_list_is_never_turned_in_a_group(uow_factory: UowFactory) -> None:
    async def list_in_group(ctx: ServiceContext) -> None:  # as a list would be if anything put one in a group
        await ctx.tell.lists.send(Listing(TEAM_GROUP), ctx.user, "Teams:", ["a"], query={"kind": "teams"})
        await ctx.uow.commit()

    await act(uow_factory, COORDINATOR, list_in_group)
    row = (await rows(uow_factory))[-1]
    with pytest.raises(DomainError):
        await act(uow_factory, COORDINATOR, lists.turn_page, row.id, 0, TEAM_GROUP)
