"""The outbox: queued sends and superseding edits, claims that only one sender wins, leases."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.uow import UnitOfWork
from tests.storage.conftest import AddUsers
from tests.support.dbfixtures import FakeClock, UowFactory

GROUP = -1001234567890123
NEW_GROUP = -1009876543210987
BIG_MESSAGE_ID = 5_000_000_000
LEASE = dt.timedelta(seconds=60)


async def _queue_send(uow_factory: UowFactory, chat_id: int = GROUP, text: str = "hello") -> int:
    async with uow_factory() as uow:
        row = await uow.outbox.send(chat_id, {"text": text})
        await uow.commit()
    return row.id


async def _status(uow_factory: UowFactory, *row_ids: int) -> list[str]:
    async with uow_factory() as uow:  # read inside: the read-only unit rolls back, expiring its rows
        rows = [await uow.outbox.get(row_id) for row_id in row_ids]
        return [row.status if row is not None else "missing" for row in rows]


async def test_send_queues_a_pending_row(uow_factory: UowFactory, add_users: AddUsers, clock: FakeClock) -> None:
    (user,) = await add_users(9_000_000_000_123)
    async with uow_factory() as uow:
        row = await uow.outbox.send(9_000_000_000_123, {"text": "hi", "parse_mode": "HTML"},
                                    recipient_user_id=user)
        photo = await uow.outbox.send(GROUP, {"photo": "file-id"}, method="sendPhoto")
        assert await uow.outbox.pending_count() == 2
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.outbox.get(row.id)
        assert stored is not None
        assert (stored.kind, stored.chat_id, stored.recipient_user_id, stored.status, stored.attempts) == (
            "send", 9_000_000_000_123, user, "pending", 0)
        assert stored.payload == {"method": "sendMessage", "text": "hi", "parse_mode": "HTML"}
        assert stored.not_before == stored.created_at == clock()
        sent_photo = await uow.outbox.get(photo.id)
        assert sent_photo is not None and sent_photo.payload == {"method": "sendPhoto", "photo": "file-id"}
        assert [r.id for r in await uow.outbox.due(clock(), 10)] == [row.id, photo.id]
        assert [r.id for r in await uow.outbox.due(clock(), 1)] == [row.id]
        assert await uow.outbox.due(clock() - dt.timedelta(seconds=1), 10) == []


async def test_edit_supersedes_older_pending_edits(uow_factory: UowFactory, clock: FakeClock) -> None:
    card = await _queue_send(uow_factory, text="order #1: new")
    other = await _queue_send(uow_factory, text="order #2: new")

    async with uow_factory() as uow:
        first = await uow.outbox.edit(card, {"text": "order #1: dispatched"})
        other_edit = await uow.outbox.edit(other, {"text": "order #2: dispatched"})
        await uow.commit()
    async with uow_factory() as uow:
        # The first edit is being sent right now: it is not superseded under the sender's feet.
        assert await uow.outbox.claim(first.id, clock(), LEASE)
        second = await uow.outbox.edit(card, {"text": "order #1: accepted"})
        third = await uow.outbox.edit(card, {"text": "order #1: done"})
        await uow.commit()

    assert await _status(uow_factory, card, first.id, second.id, third.id, other, other_edit.id) == [
        "pending", "sending", "superseded", "pending", "pending", "pending"]
    async with uow_factory() as uow:
        latest = await uow.outbox.get(third.id)
        assert latest is not None
        assert (latest.kind, latest.chat_id, latest.target_id) == ("edit", GROUP, card)
        assert latest.payload == {"method": "editMessageText", "text": "order #1: done"}
        due = [r.id for r in await uow.outbox.due(clock(), 10)]
        assert due == [card, other, other_edit.id, third.id]


async def test_two_senders_claim_one_row(uow_factory: UowFactory, clock: FakeClock) -> None:
    # Several rows, each claimed by two senders at once, all in flight together.
    row_ids = [await _queue_send(uow_factory, text=f"row {n}") for n in range(8)]

    async def claim(row_id: int) -> bool:
        async with uow_factory() as uow:
            won = await uow.outbox.claim(row_id, clock(), LEASE)
            await uow.commit()
        return won

    results = await asyncio.gather(*(claim(row_id) for row_id in row_ids for _sender in range(2)))

    assert [sorted(results[i:i + 2]) for i in range(0, len(results), 2)] == [[False, True]] * len(row_ids)
    async with uow_factory() as uow:
        for row_id in row_ids:
            row = await uow.outbox.get(row_id)
            assert row is not None
            assert (row.status, row.attempts, row.claimed_until) == ("sending", 1, clock() + LEASE)


async def test_expired_claim_can_be_claimed_again(uow_factory: UowFactory, clock: FakeClock) -> None:
    row_id = await _queue_send(uow_factory)
    async with uow_factory() as uow:
        assert await uow.outbox.claim(row_id, clock(), LEASE)
        await uow.commit()

    clock.advance(LEASE.total_seconds())  # exactly at the end of the lease: still held
    async with uow_factory() as uow:
        assert await uow.outbox.due(clock(), 10) == []
        assert not await uow.outbox.claim(row_id, clock(), LEASE)

    clock.advance(1)  # the sender died; its lease ran out
    async with uow_factory() as uow:
        assert [r.id for r in await uow.outbox.due(clock(), 10)] == [row_id]
        assert await uow.outbox.claim(row_id, clock(), LEASE)
        assert not await uow.outbox.claim(row_id, clock(), LEASE)
        await uow.commit()

    async with uow_factory() as uow:
        row = await uow.outbox.get(row_id)
        assert row is not None
        assert (row.status, row.attempts, row.claimed_until) == ("sending", 2, clock() + LEASE)


async def test_future_row_cannot_be_claimed_early(uow_factory: UowFactory, clock: FakeClock) -> None:
    row_id = await _queue_send(uow_factory)
    async with uow_factory() as uow:
        assert await uow.outbox.claim(row_id, clock(), LEASE)
        await uow.outbox.retry_later(row_id, clock() + dt.timedelta(seconds=30), "429: retry after 30")
        await uow.commit()

    async with uow_factory() as uow:
        row = await uow.outbox.get(row_id)
        assert row is not None
        assert (row.status, row.claimed_until, row.error, row.attempts) == ("pending", None, "429: retry after 30", 1)
        assert row.not_before == clock() + dt.timedelta(seconds=30)
        assert await uow.outbox.due(clock(), 10) == []
        assert not await uow.outbox.claim(row_id, clock(), LEASE)

    clock.advance(30)
    async with uow_factory() as uow:
        assert await uow.outbox.claim(row_id, clock(), LEASE)
        await uow.outbox.mark_sent(row_id, GROUP, BIG_MESSAGE_ID)
        await uow.commit()

    async with uow_factory() as uow:
        row = await uow.outbox.get(row_id)
        assert row is not None
        assert (row.status, row.attempts, row.sent_chat_id, row.message_id, row.error, row.sent_at) == (
            "sent", 2, GROUP, BIG_MESSAGE_ID, None, clock())
        assert not await uow.outbox.claim(row_id, clock() + dt.timedelta(days=1), LEASE)
        assert await uow.outbox.pending_count() == 0


async def test_fail_is_final(uow_factory: UowFactory, clock: FakeClock) -> None:
    row_id = await _queue_send(uow_factory)
    async with uow_factory() as uow:
        assert await uow.outbox.claim(row_id, clock(), LEASE)
        await uow.outbox.fail(row_id, "Forbidden: bot was blocked by the user " + "!" * 300)
        await uow.commit()

    async with uow_factory() as uow:
        row = await uow.outbox.get(row_id)
        assert row is not None
        assert (row.status, row.claimed_until) == ("failed", None)
        assert row.error is not None and len(row.error) == 256
        clock.advance(3600)
        assert await uow.outbox.due(clock(), 10) == []
        assert not await uow.outbox.claim(row_id, clock(), LEASE)
        assert await uow.outbox.pending_count() == 0


async def test_move_chat_takes_unsent_rows_along(uow_factory: UowFactory, clock: FakeClock) -> None:
    sent = await _queue_send(uow_factory, text="sent")
    sending = await _queue_send(uow_factory, text="sending")
    pending = await _queue_send(uow_factory, text="pending")
    elsewhere = await _queue_send(uow_factory, chat_id=GROUP + 1, text="another chat")
    async with uow_factory() as uow:
        assert await uow.outbox.claim(sent, clock(), LEASE)
        await uow.outbox.mark_sent(sent, GROUP, 11)
        assert await uow.outbox.claim(sending, clock(), LEASE)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.outbox.move_chat(GROUP, NEW_GROUP)
        await uow.commit()

    async with uow_factory() as uow:
        chats = {}
        for row_id in (sent, sending, pending, elsewhere):
            row = await uow.outbox.get(row_id)
            assert row is not None
            chats[row_id] = row.chat_id
        assert chats == {sent: GROUP, sending: NEW_GROUP, pending: NEW_GROUP, elsewhere: GROUP + 1}
        assert await uow.outbox.pending_count() == 3


# -- the sender's fast path: claims of many rows, records of many rows, read-only looks -----------
PERSON, OTHER_PERSON = 4242, 4343


async def test_claim_heads_takes_each_chats_first_row_in_one_statement(uow_factory: UowFactory,
                                                                       clock: FakeClock) -> None:
    first, second = await _queue_send(uow_factory, GROUP, "g1"), await _queue_send(uow_factory, GROUP, "g2")
    person = await _queue_send(uow_factory, PERSON, "p1")
    waiting = await _queue_send(uow_factory, OTHER_PERSON, "o1")
    async with uow_factory() as uow:
        taken = await uow.outbox.claim_heads([first, second, person, waiting], clock(), LEASE,
                                             exclude_chats=[OTHER_PERSON])
        await uow.commit()
    # g2 is behind g1 (pending when the statement began); the other person's chat was excluded.
    assert [(row.id, row.chat_id, row.attempts, row.status) for row in taken] == [
        (first, GROUP, 1, "sending"), (person, PERSON, 1, "sending")]
    async with uow_factory() as uow:  # g1 is being sent: g2 still may not be taken
        assert await uow.outbox.claim_heads([second], clock(), LEASE) == []
        await uow.outbox.mark_sent_many([(first, GROUP, 11, clock()), (person, PERSON, 12, clock())])
        assert [row.id for row in await uow.outbox.claim_heads([second], clock(), LEASE)] == [second]
        await uow.commit()
    assert await _status(uow_factory, first, second, person, waiting) == ["sent", "sending", "sent", "pending"]


async def test_two_senders_claiming_many_rows_at_once_take_each_row_once(uow_factory: UowFactory,
                                                                          clock: FakeClock) -> None:
    row_ids = [await _queue_send(uow_factory, PERSON + n, f"row {n}") for n in range(8)]

    async def claim() -> list[int]:
        async with uow_factory() as uow:
            taken = await uow.outbox.claim_heads(row_ids, clock(), LEASE)
            await uow.commit()
        return [row.id for row in taken]

    first, second = await asyncio.gather(claim(), claim())

    assert sorted(first + second) == row_ids


async def test_unfinished_lists_each_chats_first_rows_and_when_they_may_go(uow_factory: UowFactory,
                                                                            clock: FakeClock) -> None:
    rows = [await _queue_send(uow_factory, GROUP, f"g{n}") for n in range(3)]
    person = await _queue_send(uow_factory, PERSON, "p1")
    async with uow_factory() as uow:
        assert [row.id for row in await uow.outbox.claim_heads([rows[0]], clock(), LEASE)] == [rows[0]]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.unfinished(per_chat=2) == [
            (rows[0], GROUP, clock() + LEASE), (rows[1], GROUP, clock()), (person, PERSON, clock())]
        assert await uow.outbox.unfinished(row_ids=[rows[2], person]) == [
            (rows[2], GROUP, clock()), (person, PERSON, clock())]


async def test_committed_rows_are_announced_after_the_commit_and_never_after_a_rollback(
        uow_factory: UowFactory, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    announced: list[list[int]] = []

    def announce(row_ids: Sequence[int]) -> None:
        announced.append(list(row_ids))

    async with UnitOfWork(sessions, clock=clock, after_commit=announce) as uow:
        first = await uow.outbox.send(GROUP, {"text": "one"})
        edit = await uow.outbox.edit(first.id, {"text": "one, edited"})
        assert announced == []
        await uow.commit()
    async with UnitOfWork(sessions, clock=clock, after_commit=announce) as uow:
        await uow.outbox.send(GROUP, {"text": "never"})
    assert announced == [[first.id, edit.id]]


async def test_a_read_only_unit_of_work_does_not_hold_up_a_writer(
        uow_factory: UowFactory, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    """On SQLite a writer's ``BEGIN IMMEDIATE`` would wait (30 s, then "database is locked") behind
    a reader that had taken the write lock too; the read-only unit begins DEFERRED."""
    await _queue_send(uow_factory)
    async with UnitOfWork(sessions, clock=clock, read_only=True) as reader:
        assert len(await reader.outbox.unfinished()) == 1
        row_id = await _queue_send(uow_factory, PERSON)  # a writer, while the reader is still open
        assert len(await reader.outbox.unfinished()) in (1, 2)
    assert await _status(uow_factory, row_id) == ["pending"]


PERSONAL = {"text": "张三 13800000001 阳光小区3栋502", "parse_mode": "HTML", "protect_content": True,
            "reply_markup": {"inline_keyboard": [[{"text": "张三", "callback_data": "x:1"}]]}}


async def _payloads(uow_factory: UowFactory, *row_ids: int) -> list[dict[str, object]]:
    async with uow_factory() as uow:
        rows = [await uow.outbox.get(row_id) for row_id in row_ids]
        return [row.payload if row is not None else {} for row in rows]


async def test_a_finished_row_keeps_only_how_it_was_sent(uow_factory: UowFactory, clock: FakeClock) -> None:
    """Sent (one by one or many at once), failed (after its last attempt, or its chat gone) and
    superseded rows lose their text, caption, buttons, file ids and attachments in the statement
    that finishes them; a list's query and a text queued to be read back (``reread``) stay."""
    async with uow_factory() as uow:
        one = await uow.outbox.send(GROUP, dict(PERSONAL))
        many = await uow.outbox.send(GROUP, {**PERSONAL, "list": {"kind": "orders"}})
        voice = await uow.outbox.send(GROUP, {"voice": "voice-file-id", "caption": "张三"}, method="sendVoice")
        card = await uow.outbox.send(GROUP, {**PERSONAL, "text": "#1 repair", "reread": True})
        failed = await uow.outbox.send(NEW_GROUP, {"attachment": {"kind": "star", "name": "张三"}, "caption": "x"},
                                       method="sendPhoto")
        gone = await uow.outbox.send(NEW_GROUP, dict(PERSONAL))
        await uow.commit()
    async with uow_factory() as uow:
        superseded = await uow.outbox.edit(card.id, dict(PERSONAL))
        await uow.outbox.edit(card.id, {"text": "#1 repair: taken"})
        await uow.outbox.mark_sent(one.id, GROUP, 1)
        await uow.outbox.mark_sent_many([(many.id, GROUP, 2, clock()), (voice.id, GROUP, 3, clock()),
                                         (card.id, GROUP, 4, clock())])
        await uow.outbox.fail(failed.id, "400: Bad Request")
        assert await uow.outbox.fail_pending(NEW_GROUP, "403: blocked") == 1
        await uow.commit()
    assert await _status(uow_factory, one.id, many.id, voice.id, card.id, failed.id, gone.id, superseded.id) == [
        "sent", "sent", "sent", "sent", "failed", "failed", "superseded"]
    assert await _payloads(uow_factory, one.id, many.id, voice.id, card.id, failed.id, gone.id, superseded.id) == [
        {"method": "sendMessage", "parse_mode": "HTML", "protect_content": True},
        {"method": "sendMessage", "parse_mode": "HTML", "protect_content": True, "list": {"kind": "orders"}},
        {"method": "sendVoice"},
        {"method": "sendMessage", "parse_mode": "HTML", "protect_content": True, "reread": True,
         "text": "#1 repair"},
        {"method": "sendPhoto"},
        {"method": "sendMessage", "parse_mode": "HTML", "protect_content": True},
        {"method": "editMessageText", "parse_mode": "HTML", "protect_content": True}]


async def test_a_restarted_instance_takes_back_its_earlier_boots_rows_at_once(uow_factory: UowFactory,
                                                                              clock: FakeClock) -> None:
    """A sender killed between claim and record: the same instance, started again, need not wait
    for the lease; another instance's rows (alive, maybe sending right now) and its own stay."""
    mine, other, current, mine_done = [await _queue_send(uow_factory, chat_id=chat) for chat in (1, 2, 3, 4)]
    async with uow_factory() as uow:
        assert await uow.outbox.claim_heads([mine], clock(), LEASE, claimant="host_a#boot1")
        assert await uow.outbox.claim_heads([other], clock(), LEASE, claimant="host%b#boot1")
        assert await uow.outbox.claim_heads([current], clock(), LEASE, claimant="host_a#boot2")
        assert await uow.outbox.claim(mine_done, clock(), LEASE, claimant="host_a#boot1")
        await uow.commit()
    clock.advance(5)  # well within the lease
    async with uow_factory() as uow:
        # "host_" must not match "host%" as a pattern would: the instance is compared as text.
        assert await uow.outbox.reclaim_earlier_boots("host_a", "host_a#boot2", clock()) == 2
        assert await uow.outbox.reclaim_earlier_boots("host", "host#boot9", clock()) == 0
        await uow.commit()
    async with uow_factory() as uow:
        rows = {row.chat_id: (row.status, row.attempts, row.claimed_by)
                for row in [await uow.outbox.get(i) for i in (mine, other, current, mine_done)] if row is not None}
        due = [row.chat_id for row in await uow.outbox.due(clock(), 10)]
    assert rows == {1: ("pending", 1, None), 2: ("sending", 1, "host%b#boot1"), 3: ("sending", 1, "host_a#boot2"),
                    4: ("pending", 1, None)}
    assert due == [1, 4]  # taken back now, not when the lease runs out
