"""The outbox sender against the sandbox, over HTTP, with a real python-telegram-bot ``Bot``.

Most tests run on the fake clock that the sandbox and the sender share (see ``conftest.py``):
``outbox.drain`` moves the clock to each moment the sender names. The tests that run ``run()`` use
the wall clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import time
from collections import Counter
from typing import Any

import pytest
import telegram

from bot.adapters.sender import OutboxSender
from bot.settings import OutboxSettings
from sandbox import SandboxClient, SandboxServer
from storage.uow import UnitOfWork
from tests.outbox.conftest import (
    MakeSender,
    Outbox,
    bot_texts,
    group_with_bot,
    started_user,
)
from tests.support.clocks import JumpClock
from tests.support.dbfixtures import FakeClock, UowFactory


def _keyboard(*labels: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": label, "callback_data": label.lower()} for label in labels]]}


async def _calls(sandbox: SandboxClient, chat_id: int | None = None, method: str | None = None) -> list[dict[str, Any]]:
    calls = await sandbox.calls(method)
    return [c for c in calls if chat_id is None or c["chat_id"] == chat_id]


async def _add_users(uow_factory: UowFactory, *telegram_ids: int) -> None:
    async with uow_factory() as uow:
        for telegram_id in telegram_ids:
            await uow.users.ensure(telegram_id, f"user{telegram_id}")
        await uow.commit()


async def _unreachable(uow_factory: UowFactory, telegram_id: int) -> bool:
    async with uow_factory() as uow:
        user = await uow.users.by_telegram_id(telegram_id)
        assert user is not None
        return user.unreachable


# -- 1. order, message ids, edits -----------------------------------------------------------------
async def test_rows_arrive_in_order_per_chat_and_edits_hit_their_message(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice, bob = started_user(server, "Alice"), started_user(server, "Bob")
    a1 = await outbox.send(alice, "A1")
    b1 = await outbox.send(bob, "B1", reply_markup=_keyboard("Yes", "No"))
    a2 = await outbox.send(alice, "<b>A2</b>", parse_mode="HTML", reply_markup=_keyboard("Accept"))
    a3 = await outbox.send(alice, "A3")
    b2 = await outbox.send(bob, "B2")
    stale_edit = await outbox.edit(a2, text="A2 taken", reply_markup=_keyboard("Release"))
    a2_edit = await outbox.edit(a2, text="A2 <i>done</i>", parse_mode="HTML", reply_markup=_keyboard("Rate"))
    b1_edit = await outbox.edit(b1, method="editMessageReplyMarkup", reply_markup=_keyboard("Thanks"))

    await outbox.drain(make_sender())

    alice_chat, bob_chat = await sandbox.chat(alice), await sandbox.chat(bob)
    assert [m.text for m in alice_chat.bot_messages] == ["A1", "A2 done", "A3"]
    assert [m.text for m in bob_chat.bot_messages] == ["B1", "B2"]
    rows = {row.id: row for row in await outbox.rows()}
    for row_id, message in zip((a1, a2, a3), alice_chat.bot_messages, strict=True):
        assert (rows[row_id].status, rows[row_id].sent_chat_id, rows[row_id].message_id) == (
            "sent", alice, message.message_id)
    for row_id, message in zip((b1, b2), bob_chat.bot_messages, strict=True):
        assert (rows[row_id].status, rows[row_id].message_id) == ("sent", message.message_id)

    card = alice_chat.message(rows[a2].message_id)
    assert card.html == "A2 <i>done</i>" and card.button_texts == ["Rate"]
    assert [(v["text"], [b["text"] for row in v["buttons"] for b in row]) for v in card.history] == [("A2", ["Accept"])]
    assert rows[stale_edit].status == "superseded"  # only the newest edit of a message is sent
    assert (rows[a2_edit].status, rows[a2_edit].message_id) == ("sent", card.message_id)
    b1_message = bob_chat.message(rows[b1].message_id)
    assert b1_message.text == "B1" and b1_message.button_texts == ["Thanks"]
    assert rows[b1_edit].status == "sent"

    # Telegram saw each chat's calls in row order, paced at one a second per private chat.
    alice_calls = await _calls(sandbox, alice)
    assert [(c["method"].lower(), c["params"].get("text")) for c in alice_calls] == [
        ("sendmessage", "A1"), ("sendmessage", "<b>A2</b>"), ("sendmessage", "A3"),
        ("editmessagetext", "A2 <i>done</i>")]
    assert all(b["time"] - a["time"] >= 1.0 for a, b in itertools.pairwise(alice_calls))
    assert all(c["status"] == 200 for c in await sandbox.calls())


# -- 2. 429 storms ----------------------------------------------------------------------------------
@pytest.mark.parametrize("one_chat", [True, False], ids=["fault-on-one-chat", "fault-on-any-chat"])
async def test_429_storm_is_waited_out_without_a_violation(
        one_chat: bool, server: SandboxServer, sandbox: SandboxClient, outbox: Outbox,
        make_sender: MakeSender, clock: FakeClock) -> None:
    alice, bob, carol = (started_user(server, name) for name in ("Alice", "Bob", "Carol"))
    await sandbox.fail_next("429", count=4, retry_after=3 if one_chat else 2, method="sendMessage",
                            chat_id=alice if one_chat else None)
    first = await outbox.send(alice, "a1")
    await outbox.send(bob, "b1")
    await outbox.send(alice, "a2")
    await outbox.send(carol, "c1")
    await outbox.send(bob, "b2")
    edit = await outbox.edit(first, text="a1 (edited)")  # queued behind a row that meets the 429s
    await outbox.send(alice, "a3")
    start = clock()

    await outbox.drain(make_sender())

    assert await sandbox.flood_violations() == []  # nothing was sent inside a retry_after window
    assert await bot_texts(sandbox, alice) == ["a1 (edited)", "a2", "a3"]
    assert await bot_texts(sandbox, bob) == ["b1", "b2"]
    assert await bot_texts(sandbox, carol) == ["c1"]
    calls = await sandbox.calls()
    assert sum(c["status"] == 429 for c in calls) == 4
    rows = {row.id: row for row in await outbox.rows()}
    assert all(row.status == "sent" for row in rows.values())
    assert rows[first].attempts == 1  # waiting out a 429 is no failed attempt
    assert rows[edit].message_id == rows[first].message_id
    if one_chat:
        # Alice's chat waited out 4 windows of 3 s (longer than its own pacing would have waited);
        # the other chats did not wait for her.
        alice_ok = min(c["time"] for c in calls if c["chat_id"] == alice and c["status"] == 200)
        others_done = max(c["time"] for c in calls if c["chat_id"] in (bob, carol))
        assert others_done < alice_ok
        assert alice_ok - start.timestamp() >= 4 * 3.0


async def test_run_loop_waits_out_429_in_real_time(
        realtime_server: SandboxServer, realtime_uow_factory: Any, flowing_clock: JumpClock) -> None:
    """``run()`` on flowing time: woken by ``kick()``, back exactly when the retry window ends
    (poll_interval is 30 s here, so polling cannot be what delivers the rest)."""
    server = realtime_server
    alice, bob = started_user(server, "Alice"), started_user(server, "Bob")
    outbox = Outbox(realtime_uow_factory)
    async with server.client() as sandbox, telegram.Bot(server.token, base_url=server.bot_api_url) as bot:
        await sandbox.fail_next("429", count=2, retry_after=1, method="sendMessage")
        sender = OutboxSender(bot, realtime_uow_factory, OutboxSettings(poll_interval=30), clock=flowing_clock)
        task = asyncio.create_task(sender.run())
        began = time.monotonic()
        try:
            await outbox.send(alice, "a1")
            await outbox.send(bob, "b1")
            sender.kick()
            await sandbox.wait_for(alice, lambda view: len(view.bot_messages) == 1, timeout=8)
            await sandbox.wait_for(bob, lambda view: len(view.bot_messages) == 1, timeout=8)
        finally:
            await sender.stop()
            await task
        elapsed = time.monotonic() - began
        assert await sandbox.flood_violations() == []
        assert await bot_texts(sandbox, alice) == ["a1"]
        assert await bot_texts(sandbox, bob) == ["b1"]
        assert [c["status"] for c in await sandbox.calls("sendMessage")] == [429, 429, 200, 200]
        assert await outbox.pending() == 0
        assert 1.0 <= elapsed < 4.0  # back at the end of the window, not at the next 30 s poll


# -- 3. flood limits on: pacing, no 429 at all ------------------------------------------------------
async def test_burst_is_paced_within_the_flood_limits(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        clock: FakeClock) -> None:
    """8 messages to one person, 3 to another and 3 to a group, queued at once: the sandbox's
    flood limits (private: burst of 5 then 1/s) never answer 429. On the shared fake clock this
    takes 7 s of Telegram time (the sender keeps to 1/s without using the burst) and no wall time."""
    alice, bob = started_user(server, "Alice"), started_user(server, "Bob")
    group = group_with_bot(server, "Repair team", alice)
    for i in range(8):
        await outbox.send(alice, f"a{i}")
        if i < 3:
            await outbox.send(bob, f"b{i}")
            await outbox.send(group, f"g{i}")
    start = clock().timestamp()

    await outbox.drain(make_sender())

    calls = await sandbox.calls("sendMessage")
    assert len(calls) == 14 and {c["status"] for c in calls} == {200}
    assert await sandbox.flood_violations() == []
    assert await bot_texts(sandbox, alice) == [f"a{i}" for i in range(8)]
    assert await bot_texts(sandbox, bob) == [f"b{i}" for i in range(3)]
    assert await bot_texts(sandbox, group) == [f"g{i}" for i in range(3)]
    alice_times = [c["time"] for c in calls if c["chat_id"] == alice]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(alice_times))
    assert 7.0 <= alice_times[-1] - start < 7.1
    group_times = [c["time"] for c in calls if c["chat_id"] == group]
    assert group_times[-1] - start < 0.01  # a group may take 20 a minute, so 3 go at once


async def test_group_and_overall_limits(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        clock: FakeClock) -> None:
    """22 messages to one group (20 per rolling minute) and one each to 30 people (30/s overall)."""
    admin = started_user(server, "Admin")
    group = group_with_bot(server, "Team", admin)
    people = [started_user(server, f"P{i}") for i in range(30)]
    for i in range(22):
        await outbox.send(group, f"g{i}")
    for person in people:
        await outbox.send(person, "hello")
    start = clock().timestamp()

    await outbox.drain(make_sender())

    calls = await sandbox.calls("sendMessage")
    assert len(calls) == 52 and {c["status"] for c in calls} == {200}
    assert await bot_texts(sandbox, group) == [f"g{i}" for i in range(22)]
    group_times = [c["time"] - start for c in calls if c["chat_id"] == group]
    assert sum(t < 60 for t in group_times) == 20 and group_times[20] >= 60.0
    times = sorted(c["time"] for c in calls)
    assert max(sum(1 for t in times if t0 <= t < t0 + 1.0) for t0 in times) <= 30


# -- 4. 5xx, dropped connections, timeouts ----------------------------------------------------------
async def test_5xx_and_dropped_connections_are_retried_with_backoff(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    await sandbox.fail_next("5xx", count=2, method="sendMessage")
    await sandbox.fail_next("drop", count=1, method="sendMessage")  # the third call: no answer at all
    first = await outbox.send(alice, "one")
    second = await outbox.send(alice, "two")

    await outbox.drain(make_sender())

    assert await bot_texts(sandbox, alice) == ["one", "two"]
    calls = await sandbox.calls("sendMessage")
    assert [(c["params"]["text"], c["status"]) for c in calls] == [
        ("one", 502), ("one", 502), ("one", 499), ("one", 200), ("two", 200)]
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(calls[:4])]
    assert gaps == pytest.approx([1.0, 2.0, 4.0], abs=0.01)  # exponential backoff
    rows = {row.id: row for row in await outbox.rows()}
    assert (rows[first].attempts, rows[second].attempts) == (4, 1)


async def test_drop_after_delivery_means_the_message_arrives_twice(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    """At-least-once: Telegram carried the call out but the answer was lost, so the sender cannot
    know and sends again. The person sees the message twice; the row records the second copy."""
    alice = started_user(server, "Alice")
    await sandbox.fail_next("drop", method="sendMessage", apply=True)
    row_id = await outbox.send(alice, "Your volunteer is on the way")

    await outbox.drain(make_sender())

    view = await sandbox.chat(alice)
    assert [m.text for m in view.bot_messages] == ["Your volunteer is on the way"] * 2
    row = await outbox.row(row_id)
    assert (row.status, row.attempts, row.message_id) == ("sent", 2, view.bot_messages[-1].message_id)


async def test_a_call_that_hangs_is_cut_off_and_retried(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    await sandbox.fail_next("slow", delay=3.0, method="sendMessage")
    row_id = await outbox.send(alice, "hello")
    sender = make_sender(lease=1.0)  # calls are cut off at lease / 2
    began = time.monotonic()

    await outbox.drain(sender)

    assert time.monotonic() - began < 2.5
    assert await bot_texts(sandbox, alice) == ["hello"]  # the cut-off call never got through
    assert (await outbox.row(row_id)).attempts == 2


async def test_gives_up_after_max_attempts_and_the_chat_moves_on(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    await sandbox.fail_next("5xx", count=3, status=503, method="sendMessage")
    lost = await outbox.send(alice, "lost")
    kept = await outbox.send(alice, "kept")

    await outbox.drain(make_sender(max_attempts=3))

    rows = {row.id: row for row in await outbox.rows()}
    assert rows[lost].status == "failed" and rows[lost].attempts == 3
    assert "Service Unavailable" in (rows[lost].error or "")
    assert rows[kept].status == "sent"
    assert await bot_texts(sandbox, alice) == ["kept"]


# -- 5. blocked users -------------------------------------------------------------------------------
async def test_blocked_user_is_marked_unreachable_once_and_not_retried(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        uow_factory: UowFactory) -> None:
    alice, coordinator = started_user(server, "Alice"), started_user(server, "Coordinator")
    carol = server.people.create_user("Carol").id  # never pressed Start
    server.people.block(alice)
    await _add_users(uow_factory, alice, coordinator, carol)
    reported: list[int] = []

    async def on_unreachable(uow: UnitOfWork, chat_id: int) -> None:
        reported.append(chat_id)  # the app tells a coordinator, in the same transaction
        await uow.outbox.send(coordinator, {"text": f"{chat_id} cannot be reached"})

    sender = make_sender(on_unreachable=on_unreachable)
    first = await outbox.send(alice, "one")
    second = await outbox.send(alice, "two")
    edit = await outbox.edit(first, text="one (edited)")

    await outbox.drain(sender)

    rows = {row.id: row for row in await outbox.rows()}
    assert rows[first].status == "failed" and "blocked" in (rows[first].error or "")
    assert rows[first].attempts == 1
    assert rows[second].status == rows[edit].status == "failed"  # dropped without calling Telegram
    assert len(await _calls(sandbox, alice)) == 1
    assert await _unreachable(uow_factory, alice)
    assert reported == [alice]
    assert await bot_texts(sandbox, coordinator) == [f"{alice} cannot be reached"]

    # A row queued later is tried (once): still blocked, but reported no second time.
    later = await outbox.send(alice, "three")
    await outbox.drain(sender)
    assert (await outbox.row(later)).status == "failed"
    assert len(await _calls(sandbox, alice)) == 2
    assert reported == [alice]

    # Someone who never started the bot: the same, with Telegram's other 403.
    never = await outbox.send(carol, "hello")
    await outbox.drain(sender)
    row = await outbox.row(never)
    assert row.status == "failed" and "initiate" in (row.error or "")
    assert await _unreachable(uow_factory, carol)
    assert reported == [alice, carol]
    assert len(await _calls(sandbox, carol)) == 1


# -- 6. group upgraded to a supergroup --------------------------------------------------------------
async def test_migrated_group_follows_to_the_supergroup(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        uow_factory: UowFactory) -> None:
    admin = started_user(server, "Admin")
    group = group_with_bot(server, "Repair team", admin)
    async with uow_factory() as uow:
        team = await uow.teams.add("repair", "Repair team", ["repair"])
        await uow.teams.bind_chat(team.id, group)
        await uow.commit()
        team_id = team.id
    sender = make_sender()
    card = await outbox.send(group, "card", reply_markup=_keyboard("Accept"))
    await outbox.drain(sender)

    supergroup = server.people.migrate(group, admin)["new_chat_id"]
    first = await outbox.send(group, "first")
    second = await outbox.send(group, "second")
    card_edit = await outbox.edit(card, text="card (taken)")
    await outbox.drain(sender)

    async with uow_factory() as uow:
        team = await uow.teams.get(team_id)
        assert team is not None and team.chat_id == supergroup
    rows = {row.id: row for row in await outbox.rows()}
    assert (rows[first].status, rows[first].sent_chat_id) == ("sent", supergroup)
    assert (rows[second].status, rows[second].sent_chat_id) == ("sent", supergroup)
    assert rows[first].attempts == 1  # the migration answer is no failed attempt
    assert await bot_texts(sandbox, supergroup) == ["first", "second"]
    assert await bot_texts(sandbox, group) == ["card"]
    # The card stays behind in the old group, which can no longer be edited.
    assert rows[card_edit].status == "failed" and "supergroup" in (rows[card_edit].error or "")


# -- 7. "message is not modified", and other 400s ---------------------------------------------------
async def test_edit_that_changes_nothing_counts_as_sent(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender) -> None:
    alice = started_user(server, "Alice")
    sender = make_sender()
    card = await outbox.send(alice, "Request #7", reply_markup=_keyboard("Accept"))
    await outbox.drain(sender)
    same = await outbox.edit(card, text="Request #7", reply_markup=_keyboard("Accept"))

    await outbox.drain(sender)

    row = await outbox.row(same)
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.message_id == (await outbox.row(card)).message_id
    edits = await sandbox.calls("editMessageText")
    assert len(edits) == 1 and edits[0]["status"] == 400 and "not modified" in edits[0]["description"]
    (message,) = (await sandbox.chat(alice)).bot_messages
    assert message.history == [] and message.button_texts == ["Accept"]


async def test_bad_request_fails_the_row_without_retries_or_leaking_text(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        caplog: pytest.LogCaptureFixture) -> None:
    alice = started_user(server, "Alice")
    broken = await outbox.send(alice, "<b>Call +8613800001111 at Block 9", parse_mode="HTML")
    edit = await outbox.edit(broken, text="Call +8613800001111, Block 9")
    after = await outbox.send(alice, "next")

    with caplog.at_level(logging.DEBUG, logger="bot.adapters.sender"):
        await outbox.drain(make_sender())

    rows = {row.id: row for row in await outbox.rows()}
    assert (rows[broken].status, rows[broken].attempts) == ("failed", 1)
    assert "parse entities" in (rows[broken].error or "")
    assert rows[edit].status == "failed"  # its message never existed; Telegram is not asked
    assert rows[after].status == "sent"
    assert [c["params"]["text"] for c in await _calls(sandbox, alice)] == [
        "<b>Call +8613800001111 at Block 9", "next"]
    assert f"outbox row {broken}" in caplog.text
    assert "8613800001111" not in caplog.text and "Block 9" not in caplog.text


# -- 8. two senders on one database -----------------------------------------------------------------
async def test_two_senders_deliver_each_row_exactly_once(
        realtime_server: SandboxServer, realtime_uow_factory: Any, flowing_clock: JumpClock) -> None:
    """Two senders (as two bot processes would) run concurrently on one database, each with half
    the overall rate, on flowing time: 50 rows to 25 people, each delivered exactly once."""
    server = realtime_server
    people = [started_user(server, f"P{i}") for i in range(25)]
    outbox = Outbox(realtime_uow_factory)
    for round_ in range(2):
        for person in people:
            await outbox.send(person, f"{person}:{round_}")
    settings = OutboxSettings(global_per_second=12, poll_interval=0.05)
    handled: Counter[int] = Counter()
    async with server.client() as sandbox, \
            telegram.Bot(server.token, base_url=server.bot_api_url) as bot_a, \
            telegram.Bot(server.token, base_url=server.bot_api_url) as bot_b:
        senders = [OutboxSender(bot_a, realtime_uow_factory, settings, clock=flowing_clock),
                   OutboxSender(bot_b, realtime_uow_factory, settings, clock=flowing_clock)]
        for index, sender in enumerate(senders):
            original = sender._call

            async def counted(method: str, params: dict[str, Any], index: int = index, original: Any = original) -> Any:
                handled[index] += 1
                return await original(method, params)

            sender._call = counted  # type: ignore[method-assign]
        tasks = [asyncio.create_task(s.run()) for s in senders]
        try:
            deadline = time.monotonic() + 10
            while await outbox.pending() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            for sender in senders:
                await sender.stop()
            await asyncio.gather(*tasks)

        calls = await sandbox.calls("sendMessage")
        assert len(calls) == 50 and {c["status"] for c in calls} == {200}
        assert Counter(c["params"]["text"] for c in calls) == Counter(
            f"{p}:{r}" for p in people for r in range(2))
        for person in people:
            assert await bot_texts(sandbox, person) == [f"{person}:0", f"{person}:1"]
    rows = await outbox.rows()
    assert all(row.status == "sent" and row.attempts == 1 for row in rows)
    assert handled[0] > 0 and handled[1] > 0 and handled[0] + handled[1] == 50


# -- 9. a sender killed while holding a claim -------------------------------------------------------
async def test_a_killed_senders_claim_runs_out_and_another_sender_delivers(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        uow_factory: UowFactory, clock: FakeClock) -> None:
    alice = started_user(server, "Alice")
    row_id = await outbox.send(alice, "hello")
    after = await outbox.send(alice, "after")
    async with uow_factory() as uow:  # the "killed" sender: claimed, then never heard of again
        assert await uow.outbox.claim(row_id, clock(), dt.timedelta(seconds=60))
        await uow.commit()
    sender = make_sender()

    assert await sender.run_once() == 0  # claimed by someone else, and "after" waits behind it
    clock.advance(59)
    assert await sender.run_once() == 0
    assert await sandbox.calls("sendMessage") == []
    clock.advance(2)
    await outbox.drain(sender)

    assert await bot_texts(sandbox, alice) == ["hello", "after"]
    row = await outbox.row(row_id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert (await outbox.row(after)).status == "sent"
