"""Request limits (``[requests]``): open requests per resident and requests per minute and per
hour, counted in the database on the injected clock, through the real request service (no
Telegram), on SQLite and PostgreSQL. A refused Confirm keeps the draft; building leaders' requests
for neighbours are counted apart with their own limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import DomainError
from bot.i18n import I18n
from bot.services import request
from bot.services.context import RequestLimitConfig, ServiceConfig
from bot.services.wiring import service_context
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
RESIDENT, LEADER = 21, 22
CONFIG = ServiceConfig(categories=("repair",), coordinators_chat_id=-100, requests=RequestLimitConfig())
DRAFT = {"draft": 1, "category": "repair", "description": "leak", "community": "东湖", "building": "3", "detail": "501",
         "when": "today", "contact_name": "Rita", "contact_phone": "+8613800000001"}


async def confirm(uow_factory: UowFactory, telegram_id: int, **draft: Any) -> int:
    """The person reaches the summary of a request and taps Confirm; returns the order number."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, "Rita", "en")
        await uow.dialogs.set(user.id, request.FLOW, "summary", {**DRAFT, **draft})
        await uow.commit()
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, "Rita", "en")
        return await request.confirm(service_context(uow, user, i18n=I18N, config=CONFIG), 1, "set")


async def refused(uow_factory: UowFactory, telegram_id: int, **draft: Any) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        await confirm(uow_factory, telegram_id, **draft)
    async with uow_factory() as uow:  # the draft is kept for a later Confirm
        user = await uow.users.ensure(telegram_id, "Rita", "en")
        dialog = await uow.dialogs.get(user.id)
        assert dialog is not None and dialog.step == "summary"
    return refusal.value


async def cancel(uow_factory: UowFactory, telegram_id: int, number: int) -> None:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, "Rita", "en")
        await request.cancel(service_context(uow, user, i18n=I18N, config=CONFIG), number)


def text_of(error: DomainError, language: str = "en") -> str:
    return I18N.gettext(language, error.message, **error.params)


async def test_requests_per_minute_and_per_hour_are_limited(uow_factory: UowFactory, clock: FakeClock) -> None:
    first = await confirm(uow_factory, RESIDENT)
    clock.advance(10)
    await cancel(uow_factory, RESIDENT, first)  # cancelled requests still count in the window
    await confirm(uow_factory, RESIDENT)
    clock.advance(5)
    error = await refused(uow_factory, RESIDENT)
    assert text_of(error) == ("You have sent several requests in a short time. Please wait 1 min, then tap the same "
                              "button again. This request is kept.")
    assert "请" in text_of(error, "zh")
    clock.advance(46)  # the first left the minute window
    third = await confirm(uow_factory, RESIDENT)
    async with uow_factory() as uow:
        assert (await uow.orders.get(third)) is not None
    # per hour (6): three more, a minute apart, each cancelled so the open limit does not bite first
    await cancel(uow_factory, RESIDENT, third)
    for _ in range(3):
        clock.advance(61)
        await cancel(uow_factory, RESIDENT, await confirm(uow_factory, RESIDENT))
    clock.advance(61)  # 305 s after the first: it leaves the hour in 3295 s, 55 minutes rounded up
    error = await refused(uow_factory, RESIDENT)
    assert error.params == {"minutes": 55}


async def test_open_requests_per_resident_are_limited_until_one_is_cancelled(uow_factory: UowFactory,
                                                                               clock: FakeClock) -> None:
    numbers = []
    for _ in range(3):
        numbers.append(await confirm(uow_factory, RESIDENT))
        clock.advance(61)
    error = await refused(uow_factory, RESIDENT)
    assert error.params == {"count": 3}
    assert "My requests" in text_of(error)
    await cancel(uow_factory, RESIDENT, numbers[0])
    await confirm(uow_factory, RESIDENT)


async def test_a_building_leader_has_separate_higher_limits_for_neighbours(uow_factory: UowFactory,
                                                                           clock: FakeClock) -> None:
    for _ in range(3):
        await confirm(uow_factory, LEADER)
        clock.advance(61)
    await refused(uow_factory, LEADER)  # their own requests are at the limit ...
    for _ in range(5):  # ... but five for neighbours in a minute go through
        await confirm(uow_factory, LEADER, on_behalf=True)
    error = await refused(uow_factory, LEADER, on_behalf=True)
    assert "minutes" in error.params


async def test_a_second_tap_of_confirm_places_one_request(uow_factory: UowFactory) -> None:
    await confirm(uow_factory, RESIDENT)
    async with uow_factory() as uow:
        user = await uow.users.ensure(RESIDENT, "Rita", "en")
        with pytest.raises(DomainError):
            await request.confirm(service_context(uow, user, i18n=I18N, config=CONFIG), 1, "set")
        assert len(await uow.orders.of_resident(user.id)) == 1
