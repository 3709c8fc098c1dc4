"""Generated arrivals through the real poller: updates of a few chats and people, arriving in
random batches, each taking a random number of steps and failing for a passing reason a random
number of times. Whatever the interleaving: every update is handled exactly once, the updates of
each lane (chat or person) in update_id order and never two at once, at most ``concurrency`` at a
time, and Telegram is never told "received" past an update not yet handled."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import strategies as st
from telegram import Update

from bot.adapters.lanes import keys_of
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

PEOPLE = (101, 102, 103)
GROUPS = (-501, -502)


@dataclass(frozen=True)
class Planned:
    person: int
    where: int  # the person's id (their private chat) or a group's
    tapped: bool
    steps: int  # times the handler yields to the event loop
    failures: int  # passing failures before it goes through


PLANNED = st.builds(Planned, person=st.sampled_from(PEOPLE), where=st.sampled_from((0, *GROUPS)),
                    tapped=st.booleans(), steps=st.integers(0, 6), failures=st.integers(0, 2))
ARRIVALS = st.lists(st.integers(1, 6), min_size=1, max_size=8)  # batch sizes; the rest arrive last
PAUSES = st.lists(st.integers(0, 8), min_size=8, max_size=8)  # event loop turns between batches


def raw_of(update_id: int, planned: Planned) -> dict[str, Any]:
    chat = planned.where or planned.person
    return (tap if planned.tapped else message)(update_id, chat, planned.person)


async def play_out(plan: list[Planned], batches: list[int], pauses: list[int], concurrency: int,
                   latency: int) -> None:
    updates = {update_id: raw_of(update_id, planned) for update_id, planned in enumerate(plan, start=10)}
    by_id = dict(zip(updates, plan, strict=True))
    record = Record()
    passed_unfinished: list[tuple[int | None, list[int]]] = []

    def check_offset(offset: int | None) -> None:
        if offset is not None:
            early = [u for u in updates if u < offset and u not in record.handled]
            if early:
                passed_unfinished.append((offset, early))

    async def play(update: Update, attempt: int) -> None:
        planned = by_id[update.update_id]
        for _ in range(planned.steps):
            await asyncio.sleep(0)
        if attempt <= planned.failures:
            raise OSError("a passing failure")

    telegram = ScriptedTelegram(on_offset=check_offset, latency=latency)
    with tempfile.TemporaryDirectory() as folder:
        async with application_on(telegram, Path(folder), concurrency=concurrency) as application:
            application.add_handler(record_handler(record, play), group=-1000)
            async with polling(application):
                waiting = list(updates.values())
                for size, pause in zip(batches, pauses, strict=False):
                    telegram.release(*waiting[:size])
                    waiting = waiting[size:]
                    for _ in range(pause):
                        await asyncio.sleep(0)
                telegram.release(*waiting)
                await until(lambda: len(record.handled) >= len(updates), "every update handled")
    assert Counter(record.handled) == Counter(list(updates)), "each update handled exactly once"
    for key in {key for raw in updates.values() for key in keys_of(raw)}:
        lane = [u for u in record.handled if key in keys_of(updates[u])]
        assert lane == sorted(lane), f"lane {key} out of order: {lane}"
    assert not record.overlaps, "two updates of one lane handled at once"
    assert record.max_in_flight <= concurrency
    assert {u: record.attempts[u] for u in updates} == {u: p.failures + 1 for u, p in by_id.items()}
    assert not passed_unfinished, f"confirmed past unfinished updates: {passed_unfinished}"
    assert telegram.offsets[-1] == max(updates) + 1, "everything confirmed on the way out"


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
@hypothesis.given(plan=st.lists(PLANNED, min_size=1, max_size=24), batches=ARRIVALS, pauses=PAUSES,
                  concurrency=st.sampled_from((1, 2, 4, 16)), latency=st.integers(0, 6))
def test_any_arrival_keeps_every_lane_in_order_and_confirms_only_what_was_handled(
        plan: list[Planned], batches: list[int], pauses: list[int], concurrency: int, latency: int) -> None:
    asyncio.run(play_out(plan, batches, pauses, concurrency, latency))
