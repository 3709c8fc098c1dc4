"""Routing (issue 12, points 5–7) in the services, on SQLite and PostgreSQL: coordinators' rules
(the most specific wins), an emergency straight to the emergency team, a routed dispatch followed
up exactly as a coordinator's, the first coordinator appointed receiving the waiting requests, and
the voice note played to a coordinator privately."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.i18n import I18n
from bot.services import centre, dispatch, people, routing
from bot.services.context import ServiceConfig
from bot.services.housekeeping import outbox_rows_in_use
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from bot.views import callbacks as cb
from storage.models import OutboxMessage, ScheduledItem
from tests.support.dbfixtures import FakeClock, UowFactory

I18N = I18n()
ADMIN, COCO, RITA, VERA = 8001, 8002, 8003, 8004
CENTRE = -100
REPAIR_CHAT, FIXERS_CHAT, RESCUE_CHAT = -501, -502, -503
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=CENTRE, admins=frozenset({ADMIN}),
                       communities=("东湖社区", "西湖社区"))


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any,
              config: ServiceConfig = CONFIG) -> Any:
    """One update of ``telegram_id``'s, in its own unit of work (services commit themselves)."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        return await service(service_context(uow, user, i18n=I18N, config=config), *args)


async def teams(uow_factory: UowFactory) -> dict[str, int]:
    """Teams repair and fixers (repair, with groups), rescue (emergency, with a group), and Coco
    a coordinator."""
    async with uow_factory() as uow:
        ids = {}
        for code, categories, chat in (("repair", ["repair"], REPAIR_CHAT), ("fixers", ["repair"], FIXERS_CHAT),
                                       ("rescue", ["emergency"], RESCUE_CHAT)):
            team = await uow.teams.add(code, code.title(), categories)
            await uow.teams.bind_chat(team.id, chat)
            ids[code] = team.id
        coco = await uow.users.ensure(COCO, "Coco", "en")
        coco.is_coordinator = True
        await uow.commit()
        return ids


async def place(uow_factory: UowFactory, category: str = "repair", community: str = "东湖社区", *,
                voice: str | None = None, config: ServiceConfig = CONFIG) -> int:
    """A request of Rita's as confirm leaves it (the centre's card) and routes it."""
    async def placed(ctx: Any) -> int:
        order = await ctx.uow.orders.add(
            resident_id=ctx.user.id, status="new", category=category, urgent=category == "emergency",
            description="" if voice else "the tap leaks", voice_file_id=voice, community=community,
            building="3号楼", address_detail="501", when_text="today", contact_name="Rita",
            contact_phone="+8613800000001")
        await centre.announce(ctx, order, "created")
        await routing.route_new(ctx, order)
        await ctx.uow.commit()
        return int(order.id)
    return int(await act(uow_factory, RITA, placed, config=config))


async def order_of(uow_factory: UowFactory, number: int) -> tuple[str, int | None]:
    async with uow_factory() as uow:
        order = await uow.orders.get(number)
        assert order is not None
        return order.status, order.team_id


@dataclass(frozen=True)
class Row:
    """An outbox row as read (the unit of work that read it is gone)."""

    id: int
    target_id: int | None
    payload: dict[str, Any]


async def rows_to(uow_factory: UowFactory, chat_id: int, kind: str = "send") -> list[Row]:
    async with uow_factory() as uow:
        return [Row(r.id, r.target_id, dict(r.payload)) for r in (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))).all()]


def callbacks(row: Row) -> list[str]:
    markup = row.payload.get("reply_markup") or {}
    return [b["callback_data"] for line in markup.get("inline_keyboard", []) for b in line]


async def add_rule(uow_factory: UowFactory, category: str, community: str, team_id: int) -> None:
    index = 0 if not community else 1 + list(CONFIG.communities).index(community)
    await act(uow_factory, COCO, routing.add_rule, COCO, category, index, team_id)


async def test_the_most_specific_rule_wins(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await add_rule(uow_factory, "repair", "", ids["fixers"])
    await add_rule(uow_factory, "repair", "东湖社区", ids["repair"])
    near = await place(uow_factory, community=" 东湖社区 ")  # typed with spaces: the same community
    assert await order_of(uow_factory, near) == ("dispatched", ids["repair"])
    assert await order_of(uow_factory, await place(uow_factory, community="西湖社区")) == ("dispatched", ids["fixers"])
    assert await order_of(uow_factory, await place(uow_factory, "delivery")) == ("new", None)  # no rule: it waits


async def test_without_a_rule_a_request_waits_for_a_coordinator(uow_factory: UowFactory) -> None:
    await teams(uow_factory)
    number = await place(uow_factory)
    assert await order_of(uow_factory, number) == ("new", None)
    async with uow_factory() as uow:
        assert [e.event for e in await uow.orders.events(number)] == ["created"]


async def test_a_routed_request_is_followed_up_as_a_coordinators_dispatch(uow_factory: UowFactory,
                                                                        clock: FakeClock) -> None:
    ids = await teams(uow_factory)
    await add_rule(uow_factory, "repair", "", ids["repair"])
    number = await place(uow_factory)
    [card] = await rows_to(uow_factory, REPAIR_CHAT)  # the team card, with Accept
    assert callbacks(card) == [cb.pack(cb.ACCEPT, number)]
    async with uow_factory() as uow:
        order = await uow.orders.get(number)
        assert order is not None and order.card_outbox_id == card.id
        events = await uow.orders.events(number)
        assert [(e.event, e.actor_id, e.detail.get("routed")) for e in events][1:] == [("dispatched", None, "rule")]
        due = (await uow.session.scalars(select(ScheduledItem.due_at).where(
            ScheduledItem.order_id == number, ScheduledItem.kind == "escalate").order_by(ScheduledItem.step))).all()
        assert due == [clock() + dt.timedelta(minutes=m) for m in CONFIG.reminders.escalation_minutes]
        rita = await uow.users.by_telegram_id(RITA)
        assert rita is not None
    [*_, told] = await rows_to(uow_factory, RITA)
    assert "passed to the Repair team" in told.payload["text"]
    # the centre: the notice, and its card edited to say it was routed, with a button to move it
    texts = [r.payload["text"] for r in await rows_to(uow_factory, CENTRE)]
    assert texts[1:] == [I18N.gettext("zh", "Request #{number} → {team} (routed by a rule).", number=number,
                                      team="Repair")]  # the centre's group reads the default language
    [edit] = await rows_to(uow_factory, CENTRE, "edit")
    assert edit.payload["text"].endswith(I18N.gettext(
        "zh", "🧭 Routed by a rule to team {team}. Tap another team to move it.", team="Repair"))
    assert callbacks(edit) == [cb.pack(cb.DISPATCH, number, ids["fixers"]), cb.pack(cb.REJECT, number),
                               cb.pack(cb.HISTORY, number)]
    # re-dispatch from the card works as ever: the first team's card says it moved on
    await act(uow_factory, COCO, dispatch.dispatch, number, ids["fixers"])
    assert await order_of(uow_factory, number) == ("dispatched", ids["fixers"])
    assert len(await rows_to(uow_factory, FIXERS_CHAT)) == 1
    assert len(await rows_to(uow_factory, REPAIR_CHAT, "edit")) == 1


async def test_a_rule_to_a_team_without_a_group_leaves_the_request_waiting(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await add_rule(uow_factory, "repair", "", ids["repair"])
    async with uow_factory() as uow:
        await uow.teams.unbind_chat(REPAIR_CHAT)
        await uow.commit()
    assert await order_of(uow_factory, await place(uow_factory)) == ("new", None)


async def test_an_emergency_goes_straight_to_the_emergency_team(uow_factory: UowFactory, clock: FakeClock) -> None:
    ids = await teams(uow_factory)
    number = await place(uow_factory, "emergency")
    assert await order_of(uow_factory, number) == ("dispatched", ids["rescue"])
    assert len(await rows_to(uow_factory, RESCUE_CHAT)) == 1
    centre = [r.payload["text"] for r in await rows_to(uow_factory, CENTRE)]
    assert centre[1:] == [I18N.gettext("zh", "🚨 Emergency request #{number} went straight to team {team}.",
                                       number=number, team="Rescue")]
    [edit] = await rows_to(uow_factory, CENTRE, "edit")
    assert edit.payload["text"].endswith(I18N.gettext(
        "zh", "🚨 Emergency: sent straight to team {team}, no tap needed. Tap another team to move it.", team="Rescue"))
    async with uow_factory() as uow:  # the short ladder
        due = (await uow.session.scalars(select(ScheduledItem.due_at).where(
            ScheduledItem.order_id == number, ScheduledItem.kind == "escalate").order_by(ScheduledItem.step))).all()
        assert due == [clock() + dt.timedelta(minutes=m) for m in CONFIG.reminders.urgent_escalation_minutes]


async def test_an_emergency_rule_beats_the_emergency_category(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    async with uow_factory() as uow:
        team = await uow.teams.get(ids["fixers"])
        assert team is not None
        team.categories = ["repair", "emergency"]
        await uow.commit()
    await add_rule(uow_factory, "emergency", "", ids["fixers"])
    assert await order_of(uow_factory, await place(uow_factory, "emergency")) == ("dispatched", ids["fixers"])


async def test_an_emergency_without_an_emergency_team_waits_for_the_coordinators(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    async with uow_factory() as uow:
        assert await uow.teams.set_active(ids["rescue"], False)
        await uow.commit()
    assert await order_of(uow_factory, await place(uow_factory, "emergency")) == ("new", None)


async def test_rules_are_kept_with_buttons(uow_factory: UowFactory) -> None:
    ids = await teams(uow_factory)
    await act(uow_factory, COCO, routing.show_rules, COCO)
    [shown] = await rows_to(uow_factory, COCO)
    assert callbacks(shown) == [cb.pack(cb.ROUTE_ADD)]
    await act(uow_factory, COCO, routing.ask_category, COCO)
    assert cb.pack(cb.ROUTE_CATEGORY, "repair") in callbacks((await rows_to(uow_factory, COCO))[-1])
    await act(uow_factory, COCO, routing.ask_community, COCO, "repair")
    assert callbacks((await rows_to(uow_factory, COCO))[-1]) == [
        cb.pack(cb.ROUTE_COMMUNITY, "repair", i) for i in range(3)]  # any, 东湖社区, 西湖社区
    await act(uow_factory, COCO, routing.ask_team, COCO, "repair", 2)
    asked = (await rows_to(uow_factory, COCO))[-1]
    assert "西湖社区" in asked.payload["text"]
    assert callbacks(asked) == [cb.pack(cb.ROUTE_TEAM, "repair", 2, ids["repair"]),
                                cb.pack(cb.ROUTE_TEAM, "repair", 2, ids["fixers"])]  # teams serving repair only
    rule = await act(uow_factory, COCO, routing.add_rule, COCO, "repair", 2, ids["repair"])
    again = await act(uow_factory, COCO, routing.add_rule, COCO, "repair", 2, ids["fixers"])  # replaces the team
    assert again.id == rule.id
    listed = (await rows_to(uow_factory, COCO))[-1]
    assert "西湖社区 → Fixers" in listed.payload["text"]
    assert callbacks(listed) == [cb.pack(cb.ROUTE_DELETE, rule.id), cb.pack(cb.ROUTE_ADD)]
    with pytest.raises(NotFound):  # rescue does not take repairs
        await act(uow_factory, COCO, routing.add_rule, COCO, "repair", 0, ids["rescue"])
    with pytest.raises(InvalidInput):
        await act(uow_factory, COCO, routing.ask_community, COCO, "astrology")
    with pytest.raises(Conflict):  # a community index that is not (or no longer) one of the known
        await act(uow_factory, COCO, routing.ask_team, COCO, "repair", 9)
    await act(uow_factory, COCO, routing.delete_rule, COCO, rule.id)
    with pytest.raises(Conflict):
        await act(uow_factory, COCO, routing.delete_rule, COCO, rule.id)
    async with uow_factory() as uow:
        assert list(await uow.routes.every()) == []


@pytest.mark.parametrize("service", [
    lambda c: routing.show_rules(c, c.user.telegram_id),
    lambda c: routing.ask_category(c, c.user.telegram_id),
    lambda c: routing.ask_community(c, c.user.telegram_id, "repair"),
    lambda c: routing.ask_team(c, c.user.telegram_id, "repair", 0),
    lambda c: routing.add_rule(c, c.user.telegram_id, "repair", 0, 1),
    lambda c: routing.delete_rule(c, c.user.telegram_id, 1),
    lambda c: dispatch.listen(c, 1),
])
async def test_only_coordinators_keep_rules_and_listen(uow_factory: UowFactory, service: Any) -> None:
    ids = await teams(uow_factory)
    await add_rule(uow_factory, "repair", "", ids["fixers"])
    await place(uow_factory, "delivery", voice="voice-1")
    async with uow_factory() as uow:
        before = (len(await uow.routes.every()), await uow.outbox.pending_count())
    with pytest.raises(NotAllowed):
        await act(uow_factory, VERA, service)
    async with uow_factory() as uow:
        assert (len(await uow.routes.every()), await uow.outbox.pending_count()) == before


async def test_the_first_coordinator_receives_the_requests_nobody_saw(uow_factory: UowFactory) -> None:
    """No centre group, no coordinator, no admin: the request is told to nobody; the first
    coordinator appointed gets its card, and a dispatch from it edits it."""
    lonely = replace(CONFIG, coordinators_chat_id=None, admins=frozenset())
    appointing = replace(lonely, admins=frozenset({ADMIN}))  # the admin appears only to appoint
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, REPAIR_CHAT)
        await uow.commit()
    waiting, other = await place(uow_factory, config=lonely), await place(uow_factory, "delivery", config=lonely)
    async with uow_factory() as uow:
        assert await uow.outbox.pending_count() == 0  # nobody was there to be told
    await act(uow_factory, ADMIN, people.set_coordinator, COCO, "Coco", True, config=appointing)
    cards = [r for r in await rows_to(uow_factory, COCO) if callbacks(r)]
    assert [cb.pack(cb.REJECT, n) in callbacks(c) for c, n in zip(cards, (waiting, other), strict=True)] == [True] * 2
    async with uow_factory() as uow:  # kept from pruning while the orders can move
        assert {card.id for card in cards} <= await outbox_rows_in_use(uow)
    await act(uow_factory, COCO, dispatch.dispatch, waiting, "repair", config=lonely)
    [edit] = await rows_to(uow_factory, COCO, "edit")
    assert edit.target_id == cards[0].id and "Repair" in edit.payload["text"]
    # appointed again (already one): not sent twice
    await act(uow_factory, ADMIN, people.set_coordinator, COCO, "Coco", True, config=appointing)
    assert len([r for r in await rows_to(uow_factory, COCO) if callbacks(r)]) == 2


async def test_listen_sends_the_voice_note_privately_and_protected(uow_factory: UowFactory) -> None:
    await teams(uow_factory)
    number = await place(uow_factory, voice="voice-1")
    [card] = await rows_to(uow_factory, CENTRE)
    assert callbacks(card)[-2:] == [cb.pack(cb.LISTEN, number), cb.pack(cb.HISTORY, number)]
    with pytest.raises(Conflict):  # Coco never opened a private chat with the bot: nothing can reach her
        await act(uow_factory, COCO, dispatch.listen, number)
    async with uow_factory() as uow:
        row = await uow.outbox.send(COCO, {"text": "hello"})
        await uow.outbox.mark_sent(row.id, COCO, 1)
        await uow.commit()
    await act(uow_factory, COCO, dispatch.listen, number)
    [voice] = [r for r in await rows_to(uow_factory, COCO) if "voice" in r.payload]
    assert voice.payload == {"method": "sendVoice", "voice": "voice-1", "protect_content": True}
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage))).all()
        assert [r.chat_id for r in rows if r.payload.get("voice")] == [COCO]  # never a group
    with pytest.raises(Conflict):  # a request without a voice note
        await act(uow_factory, COCO, dispatch.listen, await place(uow_factory))
