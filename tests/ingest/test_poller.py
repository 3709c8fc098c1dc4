"""The poller handles different chats side by side and each chat (and person) in order, and tells
Telegram "received" only up to the lowest update not finished yet (bot.adapters.ingest, lanes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Update

from tests.ingest.scripted import (
    Record,
    ScriptedTelegram,
    application_on,
    message,
    polling,
    record_handler,
    tap,
    until,
)

ANNA, BORIS, GROUP = 101, 102, -500


async def test_two_chats_are_handled_at_the_same_time(tmp_path: Path) -> None:
    """Anna's update waits for an event only Boris's later update sets: one at a time, it never
    would (the test fails on its timeout)."""
    boris_arrived = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1:
            await boris_arrived.wait()
        else:
            boris_arrived.set()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(message(1, ANNA, ANNA), message(2, BORIS, BORIS))
            await until(lambda: record.handled == [2, 1], "both handled, Boris's first")
    assert record.max_in_flight == 2 and not record.overlaps


async def test_a_slow_update_holds_its_chat_and_the_confirmation_but_not_other_chats(tmp_path: Path) -> None:
    release_first = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1:
            await release_first.wait()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(message(1, ANNA, ANNA), message(2, ANNA, ANNA), message(3, BORIS, BORIS),
                             tap(4, GROUP, ANNA), tap(5, GROUP, BORIS))
            await until(lambda: sorted(record.handled) == [3], "Boris's message handled")
            # Anna's second message and her tap in the group wait for her first update; Boris's
            # tap in that group waits for her tap (one group, one lane).
            await until(lambda: len(telegram.offsets) >= 3, "polling went on")
            assert set(telegram.offsets[1:]) <= {1}, telegram.offsets  # never past the unfinished #1
            assert record.started == [1, 3]
            release_first.set()
            await until(lambda: len(record.handled) == 5, "everything handled")
        assert record.handled.index(1) < record.handled.index(2) < record.handled.index(4) < record.handled.index(5)
    assert not record.overlaps
    assert telegram.offsets[-1] == 6  # all five confirmed on the way out


async def test_a_passing_failure_holds_back_only_its_own_lanes(tmp_path: Path) -> None:
    """Anna's first update fails (a passing failure) until Boris's update went through: her next
    update waits for it; Boris is not held."""
    boris_done = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1 and not boris_done.is_set():
            raise OSError("the database is away")
        if update.update_id == 3:
            boris_done.set()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(message(1, ANNA, ANNA), message(2, ANNA, ANNA), message(3, BORIS, BORIS))
            await until(lambda: len(record.handled) == 3, "all handled")
    assert record.handled == [3, 1, 2] and record.attempts[1] >= 2 and record.attempts[2] == 1


async def test_updates_already_in_flight_are_not_taken_twice_from_the_next_batch(tmp_path: Path) -> None:
    """While #1 is held, every getUpdates brings #1 and #2 again: each is handled once."""
    release_first = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1:
            await release_first.wait()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(message(1, ANNA, ANNA), message(2, BORIS, BORIS))
            await until(lambda: record.handled == [2] and len(telegram.offsets) >= 4, "batches delivered again")
            release_first.set()
            await until(lambda: len(record.handled) == 2, "both handled")
    assert dict(record.attempts) == {1: 1, 2: 1}


async def test_stopping_leaves_unfinished_updates_unconfirmed(tmp_path: Path) -> None:
    release_first = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 2:
            await release_first.wait()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application) as poller:
            telegram.release(message(1, ANNA, ANNA), message(2, BORIS, BORIS), message(3, BORIS, BORIS),
                             message(4, GROUP, ANNA))
            await until(lambda: sorted(record.handled) == [1, 4] and 2 in record.started, "#2 in its handler")
            stopping = asyncio.create_task(poller.stop())
            await until(lambda: poller.stopping, "stopping")
            release_first.set()  # the update being handled finishes; #3 waited behind it and is left
            await stopping
    assert sorted(record.handled) == [1, 2, 4] and 3 not in record.attempts
    assert telegram.offsets[-1] == 3  # #3 stays with Telegram; #4 finished but comes after it


async def test_concurrency_one_handles_one_update_at_a_time(tmp_path: Path) -> None:
    async def play(update: Update, attempt: int) -> None:
        await asyncio.sleep(0)

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=1) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(*(message(i, 100 + i, 100 + i) for i in range(1, 7)))
            await until(lambda: len(record.handled) == 6, "all handled")
    assert record.max_in_flight == 1 and record.handled == [1, 2, 3, 4, 5, 6]


async def test_an_update_delivered_twice_goes_through_twice_one_after_the_other(tmp_path: Path) -> None:
    """Telegram's queue holding one update twice: the copy follows the first through the handlers
    (where the database recognises it, tests/e2e/test_duplicates.py); batches that bring both
    again while they are in flight add nothing."""
    release_first = asyncio.Event()

    async def play(update: Update, attempt: int) -> None:
        if update.update_id == 1 and attempt == 1:
            await release_first.wait()

    telegram, record = ScriptedTelegram(), Record()
    async with application_on(telegram, tmp_path, concurrency=4) as application:
        application.add_handler(record_handler(record, play), group=-1000)
        async with polling(application):
            telegram.release(message(1, ANNA, ANNA), message(1, ANNA, ANNA), message(2, BORIS, BORIS))
            await until(lambda: record.handled == [2] and len(telegram.offsets) >= 4, "batches delivered again")
            release_first.set()
            await until(lambda: len(record.handled) == 3, "all handled")
    assert dict(record.attempts) == {1: 2, 2: 1} and not record.overlaps
