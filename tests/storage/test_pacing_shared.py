"""Telegram's pacing shared through the database (storage/pacing.py): claimers that count their
calls at the same moment, each in its own transaction as two bot processes do, never exceed a
chat's, a group's or the overall limit together, and a 429 recorded by one closes the chat for all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from storage.pacing import OVERALL, PaceLimits, Settled
from tests.support.dbfixtures import UowFactory

LIMITS = PaceLimits(margin=0.25)
NOW = 1_768_469_400.0
PERSON = 9_000_000_001
GROUP = -1001234567890123


async def _reserve(uow_factory: UowFactory, chat_ids: Sequence[int], now: float,
                   settled: Sequence[Settled] = ()) -> dict[int, float]:
    async with uow_factory() as uow:
        refused = await uow.pacing.reserve(chat_ids, now, LIMITS, settled)
        await uow.commit()
    return refused


async def _at_once(uow_factory: UowFactory, claims: Sequence[Sequence[int]], now: float) -> list[dict[int, float]]:
    """Several claimers reserving in transactions of their own, all at once."""
    return list(await asyncio.gather(*(_reserve(uow_factory, chats, now) for chats in claims)))


async def test_two_claimers_at_once_send_to_a_person_once_per_second(uow_factory: UowFactory) -> None:
    first, second = await _at_once(uow_factory, [[PERSON], [PERSON]], NOW)
    assert sorted([len(first), len(second)]) == [0, 1]  # exactly one of them may send
    (moment,) = (first or second).values()
    assert moment >= NOW + 1.0
    assert await _reserve(uow_factory, [PERSON], NOW + 0.9) == {PERSON: moment}
    assert await _reserve(uow_factory, [PERSON], moment) == {}


async def test_claimers_at_once_never_exceed_the_overall_limit_together(uow_factory: UowFactory) -> None:
    claims = [[PERSON + 100 * claimer + n for n in range(20)] for claimer in range(4)]  # 80 people
    results = await _at_once(uow_factory, claims, NOW)
    admitted = sum(len(chats) - len(refused) for chats, refused in zip(claims, results, strict=True))
    assert admitted == LIMITS.global_per_second
    later = min(moment for refused in results for moment in refused.values())
    assert NOW + 1.0 < later <= NOW + 1.0 + LIMITS.margin + 0.01
    # Answered at once: counted from the answers, the overall window opens again a second later.
    answered = [Settled(chat, NOW + LIMITS.margin, NOW + 0.05)
                for chats, refused in zip(claims, results, strict=True) for chat in chats if chat not in refused]
    assert len(await _reserve(uow_factory, [PERSON + 1000], NOW + 0.5, answered)) == 1
    assert await _reserve(uow_factory, [PERSON + 1000], NOW + 1.06) == {}


async def test_a_group_gets_its_burst_then_twenty_per_rolling_minute_from_two_claimers(
        uow_factory: UowFactory) -> None:
    sent: list[float] = []
    for tick in range(120):  # two claimers go for the group every second for two minutes
        now = NOW + tick
        for refused in await _at_once(uow_factory, [[GROUP], [GROUP]], now):
            if not refused:
                sent.append(now)
    assert sent[:3] == [NOW, NOW, NOW + 1]  # the burst (two claimers a second)
    busiest = max(sum(1 for t in sent if start <= t < start + 60.0) for start in sent)
    assert busiest == LIMITS.group_per_minute  # never more in any minute, and the allowance is used
    assert len(sent) >= 2 * LIMITS.group_per_minute - 1


async def test_a_429_recorded_by_one_process_closes_the_chat_for_every_process(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.pacing.hold(GROUP, NOW + 7.5)
        await uow.commit()
    assert await _reserve(uow_factory, [GROUP, PERSON], NOW + 1) == {GROUP: NOW + 7.5}
    async with uow_factory() as uow:
        await uow.pacing.hold(OVERALL, NOW + 9.0)
        await uow.pacing.hold(GROUP, NOW + 2.0)  # an earlier end never shortens the window
        await uow.commit()
        assert await uow.pacing.free_at(GROUP, NOW + 2, LIMITS) == NOW + 9.0
    assert await _reserve(uow_factory, [GROUP, PERSON + 1], NOW + 8) == {GROUP: NOW + 9.0, PERSON + 1: NOW + 9.0}
    assert await _reserve(uow_factory, [GROUP, PERSON + 1], NOW + 9) == {}
