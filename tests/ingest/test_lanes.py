"""The lanes of an update (whose state it touches) and their order, on their own."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.adapters.lanes import Confirmations, Lanes, keys_of
from tests.ingest.scripted import message, tap


def test_an_update_belongs_to_its_chat_and_to_the_person_who_sent_it() -> None:
    assert keys_of(message(1, 101, 101)) == {101}  # a private chat is its person's lane
    assert keys_of(message(2, -500, 101)) == {-500, 101}
    assert keys_of(tap(3, -500, 102)) == {-500, 102}  # a tap: the chat of the message tapped on
    change: dict[str, Any] = {"update_id": 4, "chat_member": {
        "chat": {"id": -500, "type": "supergroup"}, "from": {"id": 101}, "date": 0,
        "old_chat_member": {"status": "member", "user": {"id": 103}},
        "new_chat_member": {"status": "left", "user": {"id": 103}}}}
    assert keys_of(change) == {-500, 101, 103}  # the member whose membership changed too


def test_a_malformed_update_still_has_what_lanes_it_can() -> None:
    assert keys_of({"update_id": 5, "message": "a string"}) == frozenset()
    assert keys_of({"update_id": 6, "message": {"chat": {"id": "x"}, "from": {"id": 101}}}) == {101}
    assert keys_of({"update_id": 7, "callback_query": {"from": {"id": 102}, "message": []}}) == {102}


async def test_waiting_updates_of_a_lane_go_in_update_id_order_whatever_their_arrival() -> None:
    lanes, order = Lanes(concurrency=4), []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def handle(update_id: int, keys: frozenset[int]) -> None:
        async with lanes.turn(update_id, keys) as turn, turn.attempt():
            order.append(update_id)
            if update_id == 1:
                first_in.set()
                await release.wait()

    first = asyncio.create_task(handle(1, frozenset({7})))
    await first_in.wait()
    later = [asyncio.create_task(handle(update_id, frozenset({7}))) for update_id in (4, 2, 3)]
    await asyncio.sleep(0)
    assert lanes.waiting() == 4
    release.set()
    await asyncio.gather(first, *later)
    assert order == [1, 2, 3, 4] and lanes.waiting() == 0


async def test_an_update_behind_one_left_unhandled_is_told_so() -> None:
    """The webhook answers 503 to both rather than let the later one overtake."""
    lanes = Lanes(concurrency=2)
    entered = asyncio.Event()
    seen: list[bool] = []

    async def failing() -> None:
        async with lanes.turn(1, frozenset({7, 8})) as turn:
            entered.set()
            await asyncio.sleep(0)
            turn.failed = True

    async def behind() -> None:
        await entered.wait()
        async with lanes.turn(2, frozenset({8})) as turn:
            seen.append(turn.after_failure)

    await asyncio.gather(failing(), behind())
    async with lanes.turn(3, frozenset({8})) as turn:  # arriving after: nothing to overtake
        seen.append(turn.after_failure)
    assert seen == [True, False]


def test_confirmation_stops_at_the_lowest_unfinished_update() -> None:
    confirmations = Confirmations()
    assert confirmations.offset is None
    for update_id in (5, 6, 7):
        confirmations.begin(update_id)
    confirmations.finish(6)
    assert confirmations.offset == 5 and confirmations.begun(6) == 1
    confirmations.finish(5)
    assert confirmations.offset == 7 and confirmations.begun(5) == 1  # a batch asked for before may bring it
    confirmations.asked(7)
    assert confirmations.begun(5) == 0 and confirmations.begun(6) == 0  # back now: delivered again, taken again
    confirmations.leave(7)  # left unhandled: stays unconfirmed, and is taken again when it comes back
    assert confirmations.offset == 7 and confirmations.begun(7) == 0
    confirmations.begin(7)
    confirmations.begin(7)  # Telegram delivered it twice: the copy is handled too (and recognised)
    confirmations.finish(7)
    assert confirmations.offset == 7 and confirmations.unfinished == 1
    confirmations.finish(7)
    assert confirmations.offset == 8 and confirmations.unfinished == 0
