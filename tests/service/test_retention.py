"""Retention (bot.services.retention) on the injected clock, on SQLite and PostgreSQL: a finished
order's contact is erased ``contact_retention_days`` after it finished — not a day earlier — for
every final status, open and other orders untouched; the volunteer's private copy is redacted the
moment the order finishes or leaves them (what people are told is read from outbox rows)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.lifecycle import Move
from bot.services import centre, claim, dispatch, history, orders, rating, request
from bot.services.housekeeping import Housekeeper, Retention
from bot.services.wiring import service_context
from bot.views.volunteer import DELETE_IT_YOURSELF, REDACTED_DETAILS, WHY_FINISHED, WHY_LEFT
from storage.models import Order, OutboxMessage
from tests.support import services
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.services import CONFIG, I18N, deliver_everything

_ = I18N.translator("en")
RITA, VERA, COCO = 8001, 8002, 8003
TEAM_CHAT = -600
DAY = 86_400.0
DAYS = 30
RETENTION = Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=400), batch_size=1000,
                      batch_pause_seconds=0.0, contacts=dt.timedelta(days=DAYS))
# Distinctive values, so a search for them cannot match anything else.
NAME, PHONE, ROOM = "Rita Qiaozhi", "+8613987654321", "Flat 1704-RQZ"
DESCRIPTION = "the tap leaks, call my son 13912345678"
VOICE, PHOTO = "VOICE-FILE-RQZ", "PHOTO-FILE-RQZ"


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    return await services.act(uow_factory, telegram_id, service, *args, coordinator=COCO)


async def team(uow_factory: UowFactory) -> int:
    """Team repair with its group; Vera an approved member."""
    return await services.repair_team(uow_factory, VERA, TEAM_CHAT)


async def place(uow_factory: UowFactory, *, media: bool = True) -> int:
    """Rita's request with the distinctive contact, address, description, voice note and photo."""
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        await uow.users.ensure(COCO, "Coco", "en")
        order = await uow.orders.add(resident_id=rita.id, status="new", category="repair", description=DESCRIPTION,
                                     voice_file_id=VOICE if media else None, photo_file_id=PHOTO if media else None,
                                     community="东湖社区", building="3号楼", address_detail=ROOM, when_text="today",
                                     contact_name=NAME, contact_phone=PHONE)
        await centre.announce(service_context(uow, rita, i18n=I18N, config=CONFIG), order, "created")
        await uow.commit()
        return order.id


async def accepted(uow_factory: UowFactory, *, media: bool = True) -> int:
    """A request dispatched and accepted by Vera, nothing delivered yet."""
    number = await place(uow_factory, media=media)
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    return number


async def taken(uow_factory: UowFactory, *, media: bool = True) -> int:
    """A request dispatched and accepted by Vera, everything delivered."""
    number = await accepted(uow_factory, media=media)
    await deliver_everything(uow_factory)
    return number


async def close_by_rating(uow_factory: UowFactory, number: int) -> None:
    await act(uow_factory, VERA, claim.done, number)
    await act(uow_factory, RITA, rating.rate, number, 5)


async def close_without_rating(uow_factory: UowFactory, number: int) -> None:
    """What the rating chase's last step does (bot.services.schedule.rules), by the same move."""
    await act(uow_factory, VERA, claim.done, number)

    async def no_response(ctx: Any) -> None:
        assert await orders.move(ctx, number, Move.NO_RESPONSE, no_response=True) is not None
        await ctx.uow.commit()

    await act(uow_factory, COCO, no_response)


async def cancel(uow_factory: UowFactory, number: int) -> None:
    await act(uow_factory, RITA, request.cancel, number)


async def reject(uow_factory: UowFactory, number: int) -> None:
    await act(uow_factory, COCO, dispatch.reject, number, "not for volunteers")


# How each final status is reached, and whether a volunteer held the order first.
FINISHES = {"closed": (close_by_rating, True), "no_response": (close_without_rating, True),
            "cancelled": (cancel, True), "rejected": (reject, False)}


async def order_of(uow_factory: UowFactory, number: int) -> Order:
    async with uow_factory() as uow:
        order = await uow.orders.get(number)
        assert order is not None
        await uow.commit()
        return order


def contact_kept(order: Order) -> bool:
    return (order.contact_name, order.contact_phone, order.address_detail, order.voice_file_id,
            order.photo_file_id, order.description) == (NAME, PHONE, ROOM, VOICE, PHOTO, DESCRIPTION)


def contact_erased(order: Order) -> bool:
    return (order.contact_name, order.contact_phone, order.address_detail, order.voice_file_id,
            order.photo_file_id) == ("", "", "", None, None) and "13912345678" not in order.description \
        and order.contact_erased_at is not None


async def prune(uow_factory: UowFactory, retention: Retention = RETENTION) -> Any:
    return await Housekeeper(uow_factory, retention).prune()


async def outbox(uow_factory: UowFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await uow.commit()
        return rows


# -- the database --------------------------------------------------------------------------------------
@pytest.mark.parametrize("finish", sorted(FINISHES))
async def test_the_contact_goes_on_the_day_the_retention_ends(uow_factory: UowFactory, clock: FakeClock,
                                                              finish: str) -> None:
    await team(uow_factory)
    ending, held = FINISHES[finish]
    number = await (taken(uow_factory) if held else place(uow_factory))
    still_open = await taken(uow_factory)  # accepted by Vera, never finished
    await ending(uow_factory, number)
    clock.advance(DAY)
    later = await (taken(uow_factory) if held else place(uow_factory))
    await ending(uow_factory, later)  # finished a day after the first

    clock.advance((DAYS - 1) * DAY - 1)  # the first finished 30 days less a second ago
    assert (await prune(uow_factory)).contacts == 0
    assert contact_kept(await order_of(uow_factory, number))

    clock.advance(1)  # exactly 30 days
    assert (await prune(uow_factory)).contacts == 1
    erased = await order_of(uow_factory, number)
    assert contact_erased(erased)
    assert erased.description == "the tap leaks, call my son ***"  # the request stays, masked
    assert (erased.category, erased.community, erased.building, erased.status) == \
        ("repair", "东湖社区", "3号楼", "closed" if finish == "no_response" else finish)
    assert contact_kept(await order_of(uow_factory, still_open))
    assert contact_kept(await order_of(uow_factory, later))

    clock.advance(DAY)
    assert (await prune(uow_factory)).contacts == 1  # the later one's day has come; nothing twice
    assert contact_erased(await order_of(uow_factory, later))
    clock.advance(400 * DAY)
    assert (await prune(uow_factory)).contacts == 0
    assert contact_kept(await order_of(uow_factory, still_open)), "an open order keeps its contact however old"


async def test_the_days_are_a_setting(uow_factory: UowFactory, clock: FakeClock) -> None:
    await team(uow_factory)
    number = await taken(uow_factory)
    await cancel(uow_factory, number)
    week = Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=400), batch_size=10,
                     batch_pause_seconds=0.0, contacts=dt.timedelta(days=7))
    clock.advance(6 * DAY)
    assert (await prune(uow_factory, week)).contacts == 0
    clock.advance(DAY)
    assert (await prune(uow_factory, week)).contacts == 1
    assert contact_erased(await order_of(uow_factory, number))


async def test_two_erasers_at_once_in_batches_erase_each_order_once(uow_factory: UowFactory,
                                                                    clock: FakeClock) -> None:
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        for _number in range(23):
            await uow.orders.add(resident_id=rita.id, status="closed", category="repair", description=DESCRIPTION,
                                 voice_file_id=VOICE, photo_file_id=PHOTO, community="东湖社区", building="3号楼",
                                 address_detail=ROOM, when_text="today", contact_name=NAME, contact_phone=PHONE)
        await uow.orders.add(resident_id=rita.id, status="dispatched", category="repair", description=DESCRIPTION,
                             voice_file_id=VOICE, photo_file_id=PHOTO, community="东湖社区", building="3号楼",
                             address_detail=ROOM, when_text="today", contact_name=NAME, contact_phone=PHONE)
        await uow.commit()
    clock.advance(DAYS * DAY)
    small = Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=400), batch_size=5,
                      batch_pause_seconds=0.0, contacts=dt.timedelta(days=DAYS))

    first, second = await asyncio.gather(prune(uow_factory, small), prune(uow_factory, small))

    assert first.contacts + second.contacts == 23
    async with uow_factory() as uow:
        found = list(await uow.session.scalars(select(Order).order_by(Order.id)))
        await uow.commit()
    assert all(contact_erased(order) for order in found[:23]) and contact_kept(found[23])


# -- the volunteer's chat ------------------------------------------------------------------------------
def to_vera(rows: list[OutboxMessage], vera_chat: int = VERA) -> list[OutboxMessage]:
    return [row for row in rows if row.chat_id == vera_chat]


async def details_rows(uow_factory: UowFactory, number: int) -> dict[str, int]:
    """The rows of the details message, voice note and photo Vera got on accepting."""
    order = await order_of(uow_factory, number)
    assert order.volunteer_messages is not None
    return {kind: int(row) for kind, row in order.volunteer_messages.items() if kind != "volunteer"}


@pytest.mark.parametrize("finish", ["closed", "no_response", "cancelled"])
async def test_the_details_are_redacted_and_the_media_deleted_when_the_order_finishes(
        uow_factory: UowFactory, clock: FakeClock, finish: str) -> None:
    await team(uow_factory)
    number = await accepted(uow_factory)
    sent = await details_rows(uow_factory, number)
    rows = {row.id: row for row in await outbox(uow_factory)}  # before sending (a sent row keeps no text)
    details = rows[sent["details"]]
    assert NAME in details.payload["text"] and details.payload["reply_markup"]["inline_keyboard"]
    assert rows[sent["voice"]].payload["voice"] == VOICE and rows[sent["photo"]].payload["photo"] == PHOTO
    await deliver_everything(uow_factory)

    before = max(row.id for row in await outbox(uow_factory))
    await FINISHES[finish][0](uow_factory, number)

    after = await outbox(uow_factory)
    new = [row for row in after if row.id > before]
    edits = {row.target_id: row for row in new if row.kind == "edit" and row.chat_id == VERA}
    assert edits[sent["details"]].payload == {
        "method": "editMessageText", "parse_mode": "HTML", "reply_markup": None,
        "text": _(REDACTED_DETAILS, number=number, category=_("Repair"))}
    assert edits[sent["voice"]].payload == {"method": "deleteMessage"}
    assert edits[sent["photo"]].payload == {"method": "deleteMessage"}
    why = [row.payload["text"] for row in to_vera(new) if row.kind == "send"]
    assert _(WHY_FINISHED, number=number) in why
    kept = {row.id: row for row in after}  # the rows of what went out keep no contact either
    assert NAME not in str(kept[sent["details"]].payload) and PHONE not in str(kept[sent["details"]].payload)
    assert VOICE not in str(kept[sent["voice"]].payload) and PHOTO not in str(kept[sent["photo"]].payload)
    assert (await order_of(uow_factory, number)).volunteer_messages is None
    contact_in_vera_chat = [row for row in to_vera(after) if row.id > before and NAME in str(row.payload)]
    assert contact_in_vera_chat == []


async def test_a_volunteer_who_releases_loses_the_contact(uow_factory: UowFactory, clock: FakeClock) -> None:
    await team(uow_factory)
    number = await taken(uow_factory, media=False)
    sent = await details_rows(uow_factory, number)
    assert set(sent) == {"details"}
    before = max(row.id for row in await outbox(uow_factory))

    await act(uow_factory, VERA, claim.release, number)

    new = [row for row in await outbox(uow_factory) if row.id > before]
    assert [(row.kind, row.target_id) for row in to_vera(new) if row.kind == "edit"] == [("edit", sent["details"])]
    assert _(WHY_LEFT, number=number) in [row.payload["text"] for row in to_vera(new) if row.kind == "send"]
    # Taken again, the new holder's copy is theirs to lose in turn.
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    assert (await details_rows(uow_factory, number)).keys() == {"details"}


async def test_media_older_than_telegram_allows_are_left_and_the_volunteer_asked(uow_factory: UowFactory,
                                                                                 clock: FakeClock) -> None:
    await team(uow_factory)
    number = await taken(uow_factory)
    sent = await details_rows(uow_factory, number)
    clock.advance(2 * DAY)  # more than 47 hours after they went out
    before = max(row.id for row in await outbox(uow_factory))

    await close_by_rating(uow_factory, number)

    new = [row for row in await outbox(uow_factory) if row.id > before]
    edits = {row.target_id: row.payload["method"] for row in to_vera(new) if row.kind == "edit"}
    assert edits == {sent["details"]: "editMessageText"}  # no deletion Telegram would refuse
    why = [row.payload["text"] for row in to_vera(new) if row.kind == "send"]
    assert _(WHY_FINISHED, number=number) + "\n" + _(DELETE_IT_YOURSELF) in why


async def test_details_not_sent_yet_are_never_sent(uow_factory: UowFactory, clock: FakeClock) -> None:
    await team(uow_factory)
    number = await place(uow_factory)
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)  # nothing delivered yet
    sent = await details_rows(uow_factory, number)

    await cancel(uow_factory, number)

    rows = {row.id: row for row in await outbox(uow_factory)}
    assert {rows[row].status for row in sent.values()} == {"superseded"}
    assert [row for row in rows.values() if row.kind == "edit" and row.target_id in sent.values()] == []
    assert not any(_(WHY_FINISHED, number=number) in str(row.payload) for row in to_vera(list(rows.values())))


# -- the history export --------------------------------------------------------------------------------
async def test_the_history_export_holds_no_personal_data(uow_factory: UowFactory, clock: FakeClock) -> None:
    await team(uow_factory)
    number = await place(uow_factory)
    async with uow_factory() as uow:  # the people's own names are distinctive too
        for telegram_id, name in ((RITA, "Ritaqz Resident"), (VERA, "Veraqz Volunteer"), (COCO, "Cocoqz Centre")):
            person = await uow.users.ensure(telegram_id, name, "en")
            person.first_name = name
        await uow.commit()
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    await act(uow_factory, VERA, claim.release, number)
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    await act(uow_factory, VERA, claim.done, number)
    await act(uow_factory, VERA, claim.record_hours, number, "1.5")
    await act(uow_factory, RITA, rating.rate, number, 0)  # not solved: reopened, a typed comment next
    await act(uow_factory, RITA, rating.comment, number, 1, f"still leaking, call {PHONE} at {ROOM}")
    await act(uow_factory, COCO, dispatch.reject, number, f"ask {NAME} to phone {PHONE}")  # a typed reason
    before = max(row.id for row in await outbox(uow_factory))

    await act(uow_factory, COCO, history.show, number, None)
    listing = [row for row in await outbox(uow_factory) if row.id > before][-1]
    export = listing.payload["reply_markup"]["inline_keyboard"][-1][0]
    assert export["callback_data"] == f"histx:{number}"
    await act(uow_factory, COCO, history.export, number, None)

    document = [row for row in await outbox(uow_factory) if row.id > before][-1]
    assert document.chat_id == COCO and document.payload["method"] == "sendDocument"
    attachment = document.payload["attachment"]
    assert attachment["filename"] == f"request-{number}-history.json"
    content = attachment["content"]
    exported = json.loads(content)
    assert [(e["event"], e["by"]) for e in exported["events"]] == [
        ("created", "resident"), ("dispatched", "coordinator"), ("accepted", "volunteer"), ("released", "volunteer"),
        ("accepted", "volunteer"), ("done", "volunteer"), ("hours", "volunteer"), ("rated", "resident"),
        ("reopened", "bot"), ("rejected", "coordinator")]
    assert exported["events"][1]["team"] == "repair" and exported["events"][7]["stars"] == 0
    assert (exported["request"], exported["status"], exported["category"], exported["round"]) == \
        (number, "rejected", "repair", 2)
    for needle in (NAME, PHONE, PHONE[-8:], "13912345678", ROOM, "1704", VOICE, PHOTO, "Ritaqz", "Veraqz", "Cocoqz",
                   "东湖社区", "3号楼", "leak"):
        assert needle not in content and needle not in str(document.payload), needle


async def test_only_coordinators_export_a_history(uow_factory: UowFactory, clock: FakeClock) -> None:
    await team(uow_factory)
    number = await place(uow_factory)
    for outsider in (VERA, RITA):
        with pytest.raises(NotAllowed):
            await act(uow_factory, outsider, history.export, number, None)
    with pytest.raises(NotFound):
        await act(uow_factory, COCO, history.export, number + 100, None)
