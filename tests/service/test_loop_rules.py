"""The loop's rules in the services, without Telegram (sqlite, and postgresql with TEST_DATABASE_URL):
a button of one flow never replaces another flow's draft, nobody rates their own work, and a
dispatch to the team that already has the order changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import Conflict, NotAllowed
from bot.domain.inputs import Input
from bot.i18n import I18n
from bot.services import claim, dispatch, rating, registration, request
from bot.services.context import ServiceConfig
from bot.services.wiring import service_context
from bot.settings import DEFAULT_CATEGORIES
from storage.models import OutboxMessage, Volunteer
from tests.support.dbfixtures import UowFactory

I18N = I18n()
CONFIG = ServiceConfig(categories=tuple(DEFAULT_CATEGORIES), coordinators_chat_id=-100)
RITA, VERA, COCO = 7001, 7002, 7003
Service = Any


async def act(uow_factory: UowFactory, telegram_id: int, service: Service, *args: Any) -> Any:
    """One update: ``service(ctx, *args)`` in its own unit of work (services commit themselves)."""
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, f"user{telegram_id}", "en")
        user.is_coordinator = telegram_id == COCO
        return await service(service_context(uow, user, i18n=I18N, config=CONFIG), *args)


async def dialog_of(uow_factory: UowFactory, telegram_id: int) -> tuple[str, str, dict[str, Any]] | None:
    async with uow_factory() as uow:
        user = await uow.users.ensure(telegram_id, "", "en")
        dialog = await uow.dialogs.get(user.id)
        await uow.commit()
        return None if dialog is None else (dialog.flow, dialog.step, dict(dialog.data))


async def world(uow_factory: UowFactory, *, volunteer: int = VERA, status: str = "done") -> int:
    """Team repair with group -500, Vera an approved member; one order of Rita's, taken by
    ``volunteer``, in ``status``. Returns its number."""
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        doer = await uow.users.ensure(volunteer, "Doer", "en")
        await uow.users.ensure(VERA, "Vera", "en")
        team = await uow.teams.add("repair", "Repair", ["repair"])
        await uow.teams.bind_chat(team.id, -500)
        uow.session.add(Volunteer(user_id=doer.id, team_id=team.id, name="Doer", phone="+8613800000000",
                                  status="approved", created_at=uow.now()))
        order = await uow.orders.add(resident_id=rita.id, status=status, category="repair", description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001", team_id=team.id,
                                     volunteer_id=doer.id if status != "dispatched" else None)
        await uow.commit()
        return order.id


async def draft_at_detail(uow_factory: UowFactory, telegram_id: int) -> None:
    await act(uow_factory, telegram_id, request.begin)
    dialog = await dialog_of(uow_factory, telegram_id)
    assert dialog is not None
    await act(uow_factory, telegram_id, request.choose_category, dialog[2]["draft"], "repair")
    for answer in ("the light is broken", "东湖社区", "3号楼"):
        await act(uow_factory, telegram_id, request.handle_input, *(await dialog_of(uow_factory, telegram_id))[1:],
                  Input(text=answer))


async def test_a_rating_leaves_a_draft_alone(uow_factory: UowFactory) -> None:
    number = await world(uow_factory)
    await draft_at_detail(uow_factory, RITA)
    before = await dialog_of(uow_factory, RITA)
    assert before is not None and before[:2] == ("request", "detail")
    await act(uow_factory, RITA, rating.rate, number, 5)
    assert await dialog_of(uow_factory, RITA) == before
    with pytest.raises(Conflict):  # no comment is waiting, so Skip has nothing to skip
        await act(uow_factory, RITA, rating.skip_comment, number)


async def test_a_rating_asks_for_the_comment_when_nothing_else_is_open(uow_factory: UowFactory) -> None:
    number = await world(uow_factory)
    await act(uow_factory, RITA, rating.rate, number, 5)
    dialog = await dialog_of(uow_factory, RITA)
    assert dialog is not None and dialog[:2] == ("comment", "comment")


@pytest.mark.parametrize(("actor", "opens", "button"), [
    (RITA, request.begin, lambda c: registration.edit_profile(c, "community")),  # a member writing a request
    (VERA, registration.begin_join, lambda c: request.abandon(c, 1)),  # an earlier request's Cancel, in /join
])
async def test_buttons_of_another_flow_are_refused_while_a_draft_is_open(uow_factory: UowFactory, actor: int,
                                                                         opens: Service, button: Service) -> None:
    await world(uow_factory, volunteer=RITA)  # Rita is a member of team repair; Vera of none
    await act(uow_factory, actor, opens)
    before = await dialog_of(uow_factory, actor)
    assert before is not None
    with pytest.raises(Conflict) as refusal:
        await act(uow_factory, actor, button)
    assert I18N.gettext("zh", refusal.value.message) != refusal.value.message  # translated
    assert await dialog_of(uow_factory, actor) == before


async def test_done_keeps_the_volunteers_own_draft(uow_factory: UowFactory) -> None:
    number = await world(uow_factory, status="on_way")
    await draft_at_detail(uow_factory, VERA)
    before = await dialog_of(uow_factory, VERA)
    await act(uow_factory, VERA, claim.done, number)
    assert await dialog_of(uow_factory, VERA) == before
    async with uow_factory() as uow:  # so she is not invited to type the hours into her draft
        asked = await uow.session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == VERA)
                                         .order_by(OutboxMessage.id.desc()).limit(1))
        assert asked is not None and asked.payload["text"].endswith("Tap a number.")
    await act(uow_factory, VERA, claim.record_hours, number, "2")  # the hours buttons still work
    assert await dialog_of(uow_factory, VERA) == before


async def test_nobody_rates_their_own_work(uow_factory: UowFactory) -> None:
    """An order its resident took before the Accept rule existed still cannot be rated by them."""
    number = await world(uow_factory, volunteer=RITA)
    with pytest.raises(NotAllowed):
        await act(uow_factory, RITA, rating.rate, number, 5)


async def test_dispatch_to_the_team_that_has_it_changes_nothing(uow_factory: UowFactory) -> None:
    number = await world(uow_factory, status="dispatched")
    async with uow_factory() as uow:
        before = await uow.orders.get(number)
        assert before is not None
        team_id, updated = before.team_id, before.updated_at
        sends = await uow.outbox.pending_count()
    with pytest.raises(Conflict) as refusal:
        await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    assert refusal.value.message == "Request #{number} is already with team {team}; nothing was changed."
    async with uow_factory() as uow:
        after = await uow.orders.get(number)
        assert after is not None and (after.status, after.team_id, after.updated_at) == ("dispatched", team_id, updated)
        assert await uow.outbox.pending_count() == sends
