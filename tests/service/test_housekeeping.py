"""Housekeeping (bot.services.housekeeping) on the injected clock, on SQLite and PostgreSQL: what is
pruned and what stays, in batches, by two pruners at once, and handlers working while it runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.errors import Conflict
from bot.services import centre, claim, dispatch, lists
from bot.services.housekeeping import Housekeeper, Retention
from bot.services.wiring import service_context
from storage.models import OutboxMessage, ProcessedUpdate
from storage.uow import DuplicateUpdate
from tests.support import services
from tests.support.dbfixtures import FakeClock, UowFactory
from tests.support.services import CONFIG, I18N, deliver_everything

RITA, VERA, COCO, OSCAR = 7001, 7002, 7003, 7004
TEAM_CHAT = -500
DAY = 86_400.0
RETENTION = Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=30), batch_size=1000,
                      batch_pause_seconds=0.0)


async def act(uow_factory: UowFactory, telegram_id: int, service: Any, *args: Any) -> Any:
    return await services.act(uow_factory, telegram_id, service, *args, coordinator=COCO)


async def rows(uow_factory: UowFactory) -> dict[int, OutboxMessage]:
    async with uow_factory() as uow:
        found = {row.id: row for row in await uow.session.scalars(select(OutboxMessage))}
        await uow.commit()  # nothing to write; the rows stay readable after the session (no rollback expiry)
        return found


async def prune(uow_factory: UowFactory, retention: Retention = RETENTION, **kwargs: Any) -> Any:
    return await Housekeeper(uow_factory, retention, **kwargs).prune()


async def place_order(uow_factory: UowFactory, team_id: int) -> int:
    """A new order of Rita's with the centre's cards (as placing it through the dialog makes them)."""
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        order = await uow.orders.add(resident_id=rita.id, status="new", category="repair", description="leak",
                                     community="东湖社区", building="3号楼", address_detail="501", when_text="today",
                                     contact_name="Rita", contact_phone="+8613800000001")
        await uow.users.ensure(COCO, "Coco", "en")
        await centre.announce(service_context(uow, rita, i18n=I18N, config=CONFIG), order, "created")
        await uow.commit()
        return order.id


async def team(uow_factory: UowFactory) -> int:
    """Team repair with its group; Vera an approved member."""
    return await services.repair_team(uow_factory, VERA, TEAM_CHAT)


# -- processed updates ------------------------------------------------------------------------------
async def test_update_ids_go_after_their_days_in_batches(uow_factory: UowFactory, clock: FakeClock) -> None:
    for number in range(25):
        async with uow_factory(update_key=f"old-{number}") as uow:
            await uow.commit()
    clock.advance(6 * DAY)
    for number in range(5):
        async with uow_factory(update_key=f"recent-{number}") as uow:
            await uow.commit()
    clock.advance(2 * DAY)  # the first 25 are 8 days old, the last 5 two days
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    report = await prune(uow_factory, Retention(processed_updates=dt.timedelta(days=7), outbox=RETENTION.outbox,
                                                batch_size=10, batch_pause_seconds=0.25), pause=pause)

    assert report.processed_updates == 25
    assert pauses == [0.25, 0.25]  # batches of 10, 10 and 5, a pause between two full ones
    async with uow_factory() as uow:
        keys = set(await uow.session.scalars(select(ProcessedUpdate.key)))
    assert keys == {f"recent-{number}" for number in range(5)}
    with pytest.raises(DuplicateUpdate):  # a redelivery within the retention is still recognised
        async with uow_factory(update_key="recent-0"):
            pass


# -- the outbox ----------------------------------------------------------------------------------------
async def test_an_old_card_of_an_open_order_is_still_edited_after_pruning(uow_factory: UowFactory,
                                                                          clock: FakeClock) -> None:
    repair = await team(uow_factory)
    number = await place_order(uow_factory, repair)
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")  # the team's card; the centre's edited
    await deliver_everything(uow_factory)
    async with uow_factory() as uow:
        order = await uow.orders.get(number)
        assert order is not None and order.card_outbox_id is not None
        card = order.card_outbox_id
        centre_cards = [int(row) for event in await uow.orders.events(number)
                        for row in event.detail.get("centre_cards", ())]
    assert centre_cards

    clock.advance(90 * DAY)  # the order waits for three months
    await prune(uow_factory)
    await prune(uow_factory)  # the centre's cards' edits went in the first pass: nothing more goes

    kept = await rows(uow_factory)
    assert card in kept and all(row in kept for row in centre_cards)
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    after = await rows(uow_factory)
    edits = [row for row in after.values() if row.kind == "edit" and row.status == "pending"]
    assert {edit.target_id for edit in edits} >= {card, *centre_cards}
    for edit in edits:  # what the sender needs to edit the message: its target was sent, with its id
        target = after[edit.target_id or 0]
        assert target.status == "sent" and target.message_id is not None


async def test_the_cards_of_a_finished_order_go(uow_factory: UowFactory, clock: FakeClock) -> None:
    repair = await team(uow_factory)
    number = await place_order(uow_factory, repair)
    await act(uow_factory, COCO, dispatch.dispatch, number, "repair")
    await act(uow_factory, VERA, claim.accept, number, TEAM_CHAT)
    await deliver_everything(uow_factory)
    async with uow_factory() as uow:
        await uow.orders.transition(number, ["accepted"], "cancelled")  # final: nothing edits its cards again
        await uow.commit()
    before = await rows(uow_factory)
    clock.advance(31 * DAY)

    first = await prune(uow_factory)
    second = await prune(uow_factory)  # the messages whose edits went in the first pass

    left = await rows(uow_factory)
    assert first.outbox > 0 and second.outbox > 0 and first.outbox + second.outbox == len(before) - len(left)
    latest = {row.chat_id: row.id for row in sorted(before.values(), key=lambda r: r.id)
              if row.kind == "send" and row.status == "sent" and row.message_id is not None}
    assert set(left) == set(latest.values()), "only each chat's latest delivered message stays"


async def test_whether_a_person_was_reached_is_answered_as_before(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        for number in range(5):
            await uow.outbox.send(RITA, {"text": f"hello {number}"})
        never = await uow.outbox.send(OSCAR, {"text": "you blocked me"})
        await uow.commit()
    await deliver_everything(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.fail(never.id, "Forbidden")
        menu = await uow.outbox.send(COCO, {"commands": []}, method="setMyCommands")
        await uow.commit()
    async with uow_factory() as uow:  # a command menu "sent": no message id, it reaches no chat
        await uow.outbox.mark_sent(menu.id, COCO, None)
        await uow.commit()
    clock.advance(31 * DAY)

    async def reached() -> list[bool]:
        async with uow_factory() as uow:
            return [await uow.outbox.reached(chat) for chat in (RITA, OSCAR, COCO)]

    assert await reached() == [True, False, False]
    report = await prune(uow_factory)
    assert report.outbox == 6  # four of Rita's five, Oscar's failed one, Coco's menu
    assert await reached() == [True, False, False]


async def test_what_dialogs_and_waiting_edits_refer_to_stays(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        rita = await uow.users.ensure(RITA, "Rita", "en")
        question = await uow.outbox.send(RITA, {"text": "your skills?"})
        notice = await uow.outbox.send(-700, {"text": "a group notice"})
        chatter = [await uow.outbox.send(RITA, {"text": f"later {n}"}) for n in range(2)]
        await uow.dialogs.set(rita.id, "join", "skills", {"msg": question.id})
        await uow.commit()
    await deliver_everything(uow_factory)
    clock.advance(31 * DAY)
    async with uow_factory() as uow:  # an edit queued, not sent yet: it needs its message
        await uow.outbox.edit(notice.id, {"text": "a group notice (corrected)"})
        await uow.outbox.send(-700, {"text": "a later notice"})
        await uow.commit()
    await deliver_everything(uow_factory)

    await prune(uow_factory)

    left = await rows(uow_factory)
    assert question.id in left and notice.id in left
    assert chatter[0].id not in left and chatter[1].id in left  # Rita's latest delivered message stays


async def test_a_list_older_than_the_retention_is_out_of_date(uow_factory: UowFactory, clock: FakeClock) -> None:
    async with uow_factory() as uow:
        await uow.users.ensure(COCO, "Coco", "en")
        listing = await uow.outbox.send(COCO, {"text": "teams", "list": {"kind": "teams"}})
        await uow.commit()
    await deliver_everything(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.send(COCO, {"text": "something later"})
        await uow.commit()
    await deliver_everything(uow_factory)
    clock.advance(31 * DAY)
    await prune(uow_factory)
    with pytest.raises(Conflict):  # "This list is out of date; send the command again."
        await act(uow_factory, COCO, lists.turn_page, listing.id, 1, COCO)


# -- batches, several pruners, handlers meanwhile --------------------------------------------------
async def old_rows(uow_factory: UowFactory, clock: FakeClock, chats: int, per_chat: int) -> int:
    """``per_chat`` delivered messages to each of ``chats`` chats and as many update ids, 31 days ago;
    returns how many rows a prune may delete (all but each chat's latest)."""
    for chat in range(chats):
        async with uow_factory(update_key=f"u-{chat}") as uow:
            for n in range(per_chat):
                await uow.outbox.send(9000 + chat, {"text": f"message {n}"})
            await uow.commit()
    await deliver_everything(uow_factory)
    clock.advance(31 * DAY)
    return chats * (per_chat - 1)


async def test_two_pruners_at_once_delete_each_row_once(uow_factory: UowFactory, clock: FakeClock) -> None:
    prunable = await old_rows(uow_factory, clock, chats=6, per_chat=9)
    small = Retention(processed_updates=dt.timedelta(days=7), outbox=dt.timedelta(days=30), batch_size=5,
                      batch_pause_seconds=0.0)

    first, second = await asyncio.gather(prune(uow_factory, small), prune(uow_factory, small))

    assert first.outbox + second.outbox == prunable
    assert first.processed_updates + second.processed_updates == 6
    assert len(await rows(uow_factory)) == 6  # each chat's latest
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0


async def test_handlers_commit_between_batches(uow_factory: UowFactory, clock: FakeClock) -> None:
    prunable = await old_rows(uow_factory, clock, chats=4, per_chat=11)
    handled: list[str] = []

    async def handle_an_update(seconds: float) -> None:
        """The pause between two batches: an update is handled and committed meanwhile."""
        key = f"during-{len(handled)}"
        async with uow_factory(update_key=key) as uow:
            await uow.outbox.send(RITA, {"text": "an answer"})
            await uow.commit()
        handled.append(key)

    report = await prune(uow_factory, Retention(processed_updates=dt.timedelta(days=7), outbox=RETENTION.outbox,
                                                batch_size=4, batch_pause_seconds=0.0), pause=handle_an_update)

    assert report.outbox == prunable and len(handled) >= prunable // 4
    async with uow_factory() as uow:
        assert set(await uow.session.scalars(select(ProcessedUpdate.key))) == set(handled)


async def test_handlers_run_while_a_prune_runs(uow_factory: UowFactory, clock: FakeClock) -> None:
    prunable = await old_rows(uow_factory, clock, chats=5, per_chat=21)
    handled: list[str] = []
    pruning = Housekeeper(uow_factory, Retention(processed_updates=dt.timedelta(days=7), outbox=RETENTION.outbox,
                                                 batch_size=3, batch_pause_seconds=0.0))

    async def handlers() -> None:
        for number in range(20):
            async with uow_factory(update_key=f"live-{number}") as uow:
                await uow.outbox.send(RITA, {"text": f"answer {number}"})
                await uow.commit()
            handled.append(f"live-{number}")
            await asyncio.sleep(0)

    report, _ = await asyncio.gather(pruning.prune(), handlers())

    assert report.outbox == prunable and len(handled) == 20
    async with uow_factory() as uow:
        answers = await uow.session.scalar(select(func.count()).select_from(OutboxMessage)
                                           .where(OutboxMessage.chat_id == RITA))
    assert answers == 20


async def test_stopping_ends_a_pass_between_batches(uow_factory: UowFactory, clock: FakeClock) -> None:
    await old_rows(uow_factory, clock, chats=1, per_chat=30)
    housekeeper: Housekeeper

    async def stop_after_the_first_batch(seconds: float) -> None:
        housekeeper.stop()

    housekeeper = Housekeeper(uow_factory, Retention(processed_updates=dt.timedelta(days=7),
                                                     outbox=RETENTION.outbox, batch_size=10, batch_pause_seconds=0.0),
                              pause=stop_after_the_first_batch)
    report = await housekeeper.prune()
    assert report.outbox == 10


async def test_one_pass_walks_past_what_stays_in_small_batches(uow_factory: UowFactory, clock: FakeClock) -> None:
    """Rows that stay (here: messages dialogs edit, the oldest) do not hold the walk up, and rows
    sharing a moment are not skipped between two batches."""
    async with uow_factory() as uow:
        for number in range(7):  # seven people in a dialog, each with its question kept
            person = await uow.users.ensure(8000 + number, f"p{number}", "en")
            question = await uow.outbox.send(8000 + number, {"text": "your skills?"})
            await uow.dialogs.set(person.id, "join", "skills", {"msg": question.id})
        await uow.commit()
    expected = 0
    for moment in range(5):  # then five moments, several rows at each (a handler's rows share one)
        clock.advance(60)
        async with uow_factory() as uow:
            for chat in range(4):
                await uow.outbox.send(9100 + chat, {"text": f"at {moment}"})
            await uow.commit()
        expected += 4
    async with uow_factory() as uow:
        for chat in range(4):  # the latest of each of those chats
            await uow.outbox.send(9100 + chat, {"text": "the latest"})
        await uow.commit()
    await deliver_everything(uow_factory)
    clock.advance(31 * DAY)

    report = await prune(uow_factory, Retention(processed_updates=dt.timedelta(days=7), outbox=RETENTION.outbox,
                                                batch_size=3, batch_pause_seconds=0.0))

    assert report.outbox == expected
    left = await rows(uow_factory)
    assert len(left) == 7 + 4
