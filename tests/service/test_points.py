"""Points as the services keep them (sqlite, and postgresql with TEST_DATABASE_URL): hours served
for requests and activities earn points, honour hours do not, corrections count; a year's points
lapse after the configured day of the following year (the centre's zone); the volunteer's code,
the business's amount and confirmation, both receipts; every refusal; coordinators' redemptions
per business."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, NamedTuple

import pytest
from sqlalchemy import func, select

from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import dialogs, hours, points
from bot.services.context import PointsConfig, ServiceConfig
from bot.services.wiring import service_context
from storage.ledger import ACTIVITY, ORDER
from storage.models import AuditEvent, OutboxMessage, PointCode, Redemption, Volunteer
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
CONFIG = ServiceConfig(coordinators_chat_id=-100, points=PointsConfig(per_hour=10, expires_on="03-31",
                                                                      code_minutes=10))
VERA, VICTOR, SHOP, COCO, RITA = 8201, 8202, 8203, 8204, 8205
OTHER_SHOP = 8206
NAMES = {VERA: "Vera", VICTOR: "Victor", SHOP: "Shop", COCO: "Coco", RITA: "Rita", OTHER_SHOP: "Other"}
JAN = dt.datetime(2026, 1, 10, 2, 0, tzinfo=dt.UTC)


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, NAMES[telegram_id], "en")
        user.is_coordinator = telegram_id == COCO
        ctx = service_context(uow, user, i18n=I18N, config=CONFIG, bot_username="vloop_bot")
        return await service(ctx, *args)


async def world(uow_factory: UowFactory) -> dict[str, int]:
    """Vera and Victor (volunteers, registry numbers P-1, P-2), Lucky Noodles (a business, its
    contact Shop) in team alliance; Coco coordinates; Rita is a resident. Vera served 90 minutes
    for a request and 30 at an activity in January: 20 points."""
    async with uow_factory() as uow:
        team = await uow.teams.add("alliance", "Alliance", ["repair"])
        ids = {}
        people = ((VERA, "Vera", "volunteer", "P-1"), (VICTOR, "Victor", "volunteer", "P-2"),
                  (SHOP, "Shop", "business", None))
        for telegram_id, name, kind, number in people:
            person = await uow.users.ensure(telegram_id, name, "en")
            member = Volunteer(user_id=person.id, team_id=team.id, name=name, phone="+8613800000000",
                               status="approved", registry_number=number, kind=kind,
                               organisation="Lucky Noodles" if kind == "business" else "", created_at=uow.now())
            uow.session.add(member)
            await uow.session.flush()
            ids[name] = person.id
            ids[f"{name}:member"] = member.id
        await uow.users.ensure(RITA, "Rita", "en")
        order = await uow.ledger.add(ids["Vera"], ORDER, 90, JAN, team_id=team.id)
        ids["entry"] = order.id
        await uow.ledger.add(ids["Vera"], ACTIVITY, 30, JAN, team_id=team.id)
        await uow.commit()
        return ids


async def total(uow_factory: UowFactory, user_id: int) -> int:
    async with uow_factory() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        balance = await points.balance(service_context(uow, user, i18n=I18N, config=CONFIG), user_id)
        return balance.total


async def outbox(uow_factory: UowFactory, telegram_id: int) -> list[dict[str, Any]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
                                         .order_by(OutboxMessage.id))
        return [row.payload for row in rows]


def text_of(payload: dict[str, Any]) -> str:
    return str(payload.get("text") or payload.get("caption"))


class Code(NamedTuple):
    id: int
    code: str
    status: str


async def live_code(uow_factory: UowFactory, user_id: int) -> Code:
    """The person's newest code."""
    async with uow_factory() as uow:
        code = await uow.session.scalar(select(PointCode).where(PointCode.user_id == user_id)
                                        .order_by(PointCode.id.desc()).limit(1))
        assert code is not None
        return Code(code.id, code.code, code.status)


async def count(uow_factory: UowFactory, model: Any) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


# -- earning and expiry -----------------------------------------------------------------------------------------
async def test_served_hours_earn_honour_hours_do_not_corrections_count(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    assert await total(uow_factory, ids["Vera"]) == 20  # 2 hours × 10
    await act(uow_factory, COCO, hours.honour, "P-1", "5", "flood relief")
    assert await total(uow_factory, ids["Vera"]) == 20  # honour hours earn nothing
    await act(uow_factory, COCO, hours.correct, ids["entry"], "-0.5", "left early")
    assert await total(uow_factory, ids["Vera"]) == 15
    async with uow_factory() as uow:
        honour_id = (await uow.session.scalars(select(AuditEvent.subject_id).where(AuditEvent.event == "honour"))).one()
    await act(uow_factory, COCO, hours.correct, honour_id, "+3", "more flood relief")
    assert await total(uow_factory, ids["Vera"]) == 15  # a correction of honour hours is honour too
    assert await total(uow_factory, ids["Victor"]) == 0


async def test_a_years_points_lapse_after_the_configured_day_of_the_next(uow_factory: UowFactory,
                                                                           clock: FakeClock) -> None:
    ids = await world(uow_factory)
    async with uow_factory() as uow:  # 1 hour in 2025 (Shanghai: 31 Dec 2025 23:30)
        await uow.ledger.add(ids["Vera"], ORDER, 60, dt.datetime(2025, 12, 31, 15, 30, tzinfo=dt.UTC))
        await uow.commit()
    assert await total(uow_factory, ids["Vera"]) == 30
    clock.now = dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC)  # 23:59 on 31 March in Shanghai
    assert await total(uow_factory, ids["Vera"]) == 30
    await act(uow_factory, VERA, points.show)
    assert "10 points earned in 2025, usable until 2026-03-31" in text_of((await outbox(uow_factory, VERA))[-1])
    clock.now = dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC)  # 1 April in Shanghai
    assert await total(uow_factory, ids["Vera"]) == 20


async def test_the_older_years_points_are_spent_first(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    async with uow_factory() as uow:
        await uow.ledger.add(ids["Vera"], ORDER, 60, dt.datetime(2025, 6, 1, 2, 0, tzinfo=dt.UTC))
        await uow.commit()
    await act(uow_factory, VERA, points.show)
    code = await live_code(uow_factory, ids["Vera"])
    await act(uow_factory, SHOP, points.confirm, code.id, 15)
    async with uow_factory() as uow:
        assert (await uow.points.spent(ids["Vera"], 2025), await uow.points.spent(ids["Vera"], 2026)) == (10, 5)
    assert await total(uow_factory, ids["Vera"]) == 15


# -- the redemption ---------------------------------------------------------------------------------------------
async def test_a_volunteer_gets_a_code_a_business_types_it_confirms_and_both_get_receipts(
        uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    await act(uow_factory, VERA, points.show)
    shown = (await outbox(uow_factory, VERA))[-1]
    code = await live_code(uow_factory, ids["Vera"])
    assert len(code.code) == 8 and code.status == "issued"
    assert f"<b>{code.code}</b>" in text_of(shown) and "You have <b>20</b> points" in text_of(shown)
    link = f"https://t.me/vloop_bot?start=pay_{code.code}"
    assert shown["attachment"] == {"kind": "qr", "text": link, "filename": "points.png", "field": "photo"}

    typed = " ".join(code.code[i:i + 4] for i in (0, 4)).lower()  # as people type it
    assert await act(uow_factory, SHOP, points.arrive_by_text, typed) is True
    asked = (await outbox(uow_factory, SHOP))[-1]
    assert "how many points" in text_of(asked) and "Lucky Noodles" in text_of(asked)
    async with uow_factory() as uow:
        shop = await uow.users.get(ids["Shop"])
        assert shop is not None
        ctx = service_context(uow, shop, i18n=I18N, config=CONFIG)
        assert await dialogs.handle_input(ctx, Input(text=code.code))  # a code in the amount dialog: taken anew
    assert text_of((await outbox(uow_factory, SHOP))[-1]) == text_of(asked)
    async with uow_factory() as uow:
        shop = await uow.users.get(ids["Shop"])
        assert shop is not None
        ctx = service_context(uow, shop, i18n=I18N, config=CONFIG)
        assert await dialogs.handle_input(ctx, Input(text="１２"))  # full-width digits
    confirm = (await outbox(uow_factory, SHOP))[-1]
    assert "Take <b>12</b> points" in text_of(confirm)
    await act(uow_factory, SHOP, points.confirm, code.id, 12)

    receipt = text_of((await outbox(uow_factory, VERA))[-1])
    assert "you used <b>12</b> points at Lucky Noodles" in receipt and "Points left: 8." in receipt
    shop_receipt = text_of((await outbox(uow_factory, SHOP))[-1])
    assert "12 points taken for Lucky Noodles" in shop_receipt and "from volunteer Vera" in shop_receipt
    assert "+86" not in receipt + shop_receipt
    assert await total(uow_factory, ids["Vera"]) == 8
    async with uow_factory() as uow:
        (redemption,) = (await uow.session.scalars(select(Redemption))).all()
        assert (redemption.user_id, redemption.business_id, redemption.cashier_id, redemption.amount) == (
            ids["Vera"], ids["Shop:member"], ids["Shop"], 12)
        events = await uow.audit.of_subject("redemption", redemption.id)
        assert [(e.event, e.actor_id, e.detail) for e in events] == [
            ("redeemed", ids["Shop"], {"user": ids["Vera"], "business": ids["Shop:member"], "amount": 12})]
    with pytest.raises(Conflict, match="used already"):
        await act(uow_factory, SHOP, points.confirm, code.id, 1)


async def test_the_qr_codes_link_opens_the_redemption(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    await act(uow_factory, VERA, points.show)
    code = await live_code(uow_factory, ids["Vera"])
    await act(uow_factory, SHOP, points.arrive_by_link, code.code)
    assert "how many points" in text_of((await outbox(uow_factory, SHOP))[-1])


async def test_every_refusal(uow_factory: UowFactory, clock: FakeClock) -> None:
    ids = await world(uow_factory)
    with pytest.raises(NotAllowed, match="approved volunteers"):
        await act(uow_factory, RITA, points.show)
    await act(uow_factory, VICTOR, points.show)  # no points: told how to earn them, no code
    assert "no points to use yet" in text_of((await outbox(uow_factory, VICTOR))[-1])
    assert await count(uow_factory, PointCode) == 0

    await act(uow_factory, VERA, points.show)
    first = await live_code(uow_factory, ids["Vera"])
    with pytest.raises(NotFound, match="not valid"):  # a business typing a code never issued
        await act(uow_factory, SHOP, points.arrive_by_text, "ZZZZ2222")
    assert await act(uow_factory, RITA, points.arrive_by_text, "ZZZZ2222") is False  # not ours: offered as a request
    with pytest.raises(NotAllowed, match="partner business"):
        await act(uow_factory, RITA, points.arrive_by_text, first.code)
    with pytest.raises(NotAllowed, match="partner business"):
        await act(uow_factory, RITA, points.confirm, first.id, 5)
    with pytest.raises(Conflict, match="your own"):
        await act(uow_factory, VERA, points.arrive_by_text, first.code)
    with pytest.raises(InvalidInput, match="whole number"):
        await act(uow_factory, SHOP, points.confirm, first.id, 0)
    with pytest.raises(Conflict, match="Not enough points"):
        await act(uow_factory, SHOP, points.confirm, first.id, 21)
    await act(uow_factory, SHOP, points.arrive_by_text, first.code)  # refused for too few: the code still works
    async with uow_factory() as uow:  # in the amount dialog, a word is no amount
        shop = await uow.users.get(ids["Shop"])
        assert shop is not None
        with pytest.raises(InvalidInput, match="whole number"):
            await dialogs.handle_input(service_context(uow, shop, i18n=I18N, config=CONFIG), Input(text="lots"))

    await act(uow_factory, VERA, points.show)  # a new code: the first is void
    second = await live_code(uow_factory, ids["Vera"])
    with pytest.raises(Conflict, match="expired"):
        await act(uow_factory, SHOP, points.confirm, first.id, 5)
    clock.advance(10 * 60)
    with pytest.raises(Conflict, match="expired"):
        await act(uow_factory, SHOP, points.arrive_by_text, second.code)
    assert await count(uow_factory, Redemption) == 0
    assert await total(uow_factory, ids["Vera"]) == 20


async def test_the_business_can_cancel(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    await act(uow_factory, VERA, points.show)
    code = await live_code(uow_factory, ids["Vera"])
    await act(uow_factory, SHOP, points.choose_amount, code.id, 5)
    await act(uow_factory, SHOP, points.cancel)
    assert "no points were taken" in text_of((await outbox(uow_factory, SHOP))[-1])
    assert await total(uow_factory, ids["Vera"]) == 20


# -- the coordinators ------------------------------------------------------------------------------------------
async def test_redemptions_per_business_for_coordinators_only(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    for amount in (3, 4):
        await act(uow_factory, VERA, points.show)
        await act(uow_factory, SHOP, points.confirm, (await live_code(uow_factory, ids["Vera"])).id, amount)
    await act(uow_factory, COCO, points.per_business, None, None)
    listed = text_of((await outbox(uow_factory, COCO))[-1])
    assert "Points used per business, 2026-01" in listed and "Lucky Noodles: 2 times, 7 points" in listed
    await act(uow_factory, COCO, points.per_business, "2025-12", None)
    assert "No points were used at a business in 2025-12." in text_of((await outbox(uow_factory, COCO))[-1])
    for who in (VERA, SHOP):
        with pytest.raises(NotAllowed):
            await act(uow_factory, who, points.per_business, None, None)


async def test_two_businesses_confirming_the_same_code_at_once_redeem_once(uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    async with uow_factory() as uow:
        team_id = (await uow.volunteers.of_user(ids["Shop"]))[0].team_id
        other = await uow.users.ensure(OTHER_SHOP, "Other", "en")
        uow.session.add(Volunteer(user_id=other.id, team_id=team_id, name="Other", phone="+8613800000002",
                                  status="approved", kind="business", organisation="Tea House", created_at=uow.now()))
        await uow.commit()
    await act(uow_factory, VERA, points.show)
    code = await live_code(uow_factory, ids["Vera"])

    async def redeem(who: int) -> str:
        try:
            await act(uow_factory, who, points.confirm, code.id, 15)
        except Conflict as refused:
            return refused.message
        return "redeemed"

    outcomes = sorted(await asyncio.gather(redeem(SHOP), redeem(OTHER_SHOP)))
    assert outcomes == ["This points code was used already. The volunteer can get a new one.", "redeemed"]
    assert await count(uow_factory, Redemption) == 1
    assert await total(uow_factory, ids["Vera"]) == 5
