"""The audit trail, viewable (sqlite, and postgresql with TEST_DATABASE_URL): an approval, a
coordinator appointed and removed, a team leader set and unset, honour hours, a correction and a
redemption each leave one audit event naming the actor; ``/history N`` shows a request's events
oldest first in the centre's time, with first names and no phone numbers; nobody but a coordinator sees it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import NotAllowed, NotFound
from bot.i18n import I18n
from bot.services import claim, dispatch, history, hours, people, points, teams
from bot.services.context import PointsConfig, ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import AuditEvent, OutboxMessage, PointCode, Volunteer
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
ADMIN, COCO, VERA, PAUL, SHOP, RITA = 8301, 8302, 8303, 8304, 8305, 8306
NAMES = {ADMIN: "Ada", COCO: "Coco", VERA: "Vera", PAUL: "Paul", SHOP: "Shop", RITA: "Rita"}
CONFIG = ServiceConfig(admins=frozenset({ADMIN}), categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100,
                       points=PointsConfig(per_hour=10))
TEAM_CHAT = -830


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, NAMES[telegram_id], "en")
        user.is_coordinator = user.is_coordinator or telegram_id == COCO
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG, bot_username="vloop_bot"), *args)


async def world(uow_factory: UowFactory) -> dict[str, int]:
    """Team repair with Vera (approved, P-1), Paul (pending) and the business Shop; Rita's request."""
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, TEAM_CHAT)
        ids = {"team": team.id}
        for telegram_id, status, kind, number in ((VERA, "approved", "volunteer", "P-1"),
                                                  (PAUL, "pending", "volunteer", None),
                                                  (SHOP, "approved", "business", None)):
            person = await uow.users.ensure(telegram_id, NAMES[telegram_id], "en")
            member = Volunteer(user_id=person.id, team_id=team.id, name=NAMES[telegram_id], phone="+8613812345678",
                               status=status, registry_number=number, kind=kind, organisation="Noodles",
                               created_at=uow.now())
            uow.session.add(member)
            await uow.session.flush()
            ids[NAMES[telegram_id]], ids[f"{NAMES[telegram_id]}:member"] = person.id, member.id
        rita = await uow.users.ensure(RITA, "Rita", "en")
        order = await uow.orders.add(resident_id=rita.id, status="new", category="repair", description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001")
        ids["order"] = order.id
        coco = await uow.users.ensure(COCO, "Coco", "en")
        ids["Coco"] = coco.id
        await uow.commit()
    return ids


async def audit(uow_factory: UowFactory) -> list[tuple[int | None, str, int, str, dict[str, Any]]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.actor_id, e.subject, e.subject_id, e.event, e.detail) for e in rows]


async def last_text(uow_factory: UowFactory, chat_id: int) -> str:
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
                                       .order_by(OutboxMessage.id.desc()).limit(1))
        assert row is not None
        return str(row.payload.get("text") or row.payload.get("caption"))


async def test_approvals_role_changes_honour_hours_corrections_and_redemptions_are_audited(
        uow_factory: UowFactory) -> None:
    ids = await world(uow_factory)
    await act(uow_factory, COCO, people.decide_volunteer, ids["Paul:member"], True)
    await act(uow_factory, ADMIN, people.set_coordinator, VERA, "Vera", True)
    await act(uow_factory, ADMIN, people.set_coordinator, VERA, "Vera", False)
    await act(uow_factory, COCO, teams.appoint_leader, "repair", VERA, True)
    await act(uow_factory, COCO, teams.appoint_leader, "repair", VERA, False)
    await act(uow_factory, COCO, hours.honour, "P-1", "2", "flood relief")
    async with uow_factory() as uow:
        honour_entry = (await uow.ledger.entries(ids["Vera"], (dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                                                              dt.datetime(2100, 1, 1, tzinfo=dt.UTC))))[0][0].id
    await act(uow_factory, COCO, hours.correct, honour_entry, "-1", "typo")
    async with uow_factory() as uow:
        await uow.ledger.add(ids["Vera"], "order", 60, uow.now())
        await uow.commit()
    await act(uow_factory, VERA, points.show)
    async with uow_factory() as uow:
        code_id = (await uow.session.scalars(select(PointCode.id))).one()
    await act(uow_factory, SHOP, points.confirm, code_id, 4)

    ada = (await audit(uow_factory))[1][0]
    assert await audit(uow_factory) == [
        (ids["Coco"], "volunteer", ids["Paul:member"], "approved", {}),
        (ada, "user", ids["Vera"], "coordinator_appointed", {}),
        (ada, "user", ids["Vera"], "coordinator_removed", {}),
        (ids["Coco"], "team", ids["team"], "leader_set", {"user": ids["Vera"]}),
        (ids["Coco"], "team", ids["team"], "leader_unset", {"user": ids["Vera"]}),
        (ids["Coco"], "hours", honour_entry, "honour", {"user": ids["Vera"], "minutes": 120}),
        (ids["Coco"], "hours", honour_entry + 1, "correction", {"corrects": honour_entry, "minutes": -60}),
        (ids["Shop"], "redemption", 1, "redeemed", {"user": ids["Vera"], "business": ids["Shop:member"],
                                                    "amount": 4}),
    ]


async def test_history_shows_a_requests_events_oldest_first(uow_factory: UowFactory, clock: FakeClock) -> None:
    ids = await world(uow_factory)
    await act(uow_factory, COCO, dispatch.dispatch, ids["order"], "repair")
    clock.advance(10 * 60)
    await act(uow_factory, VERA, claim.accept, ids["order"], TEAM_CHAT)
    clock.advance(50 * 60)
    await act(uow_factory, VERA, claim.done, ids["order"])
    await act(uow_factory, COCO, history.show, ids["order"], None)
    text = await last_text(uow_factory, COCO)
    # The FakeClock starts 2026-01-15 09:30 UTC: 17:30 in Shanghai.
    assert text.splitlines() == [
        f"📜 History of request #{ids['order']}:",
        "2026-01-15 17:30 · sent to a team · Coco",
        "2026-01-15 17:40 · accepted · Vera",
        "2026-01-15 18:30 · done · Vera",
    ]
    assert "+86" not in text and "501" not in text
    async def vera_points(ctx: Any) -> int:
        return (await points.balance(ctx, ids["Vera"])).total

    assert await act(uow_factory, VERA, vera_points) == 8  # the 50 minutes served earn points: 50 × 10 ÷ 60
    await act(uow_factory, COCO, history.explain)
    assert "/history 42" in await last_text(uow_factory, COCO)


@pytest.mark.parametrize("who", [VERA, SHOP, RITA])
async def test_only_a_coordinator_sees_a_requests_history(uow_factory: UowFactory, who: int) -> None:
    ids = await world(uow_factory)
    with pytest.raises(NotAllowed):
        await act(uow_factory, who, history.show, ids["order"], None)


async def test_the_history_of_no_request(uow_factory: UowFactory) -> None:
    await world(uow_factory)
    with pytest.raises(NotFound, match="was not found"):
        await act(uow_factory, COCO, history.show, 999, None)
