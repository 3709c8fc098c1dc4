"""Pacing at Telegram's allowance, on the fake clock the sandbox shares (no wall time): the
sandbox's flood limits are on, so a call over a limit would be a 429 and fail these tests.

Telegram allows 20 messages per rolling minute to a group, 30 per rolling second overall and about
one per second to a person. The sender uses all of it, and spreads a group's backlog over the
minute (a burst of ``group_burst``, then one every 3 s) instead of sending 20 at once and then
staying silent for 40 s.
"""

from __future__ import annotations

import itertools

from sandbox import SandboxClient, SandboxServer
from tests.outbox.conftest import MakeSender, Outbox, bot_texts, group_with_bot, started_user
from tests.support.dbfixtures import FakeClock


def _most_in_any_window(times: list[float], seconds: float) -> int:
    return max(sum(1 for t in times if t0 <= t < t0 + seconds) for t0 in times)


async def test_sixty_messages_to_one_group_are_spread_at_three_second_spacing(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        clock: FakeClock) -> None:
    admin = started_user(server, "Admin")
    group = group_with_bot(server, "Repair team", admin)
    for i in range(60):
        await outbox.send(group, f"g{i}")
    start = clock().timestamp()

    await outbox.drain(make_sender(), max_rounds=2000)

    calls = await sandbox.calls("sendMessage")
    assert {c["status"] for c in calls} == {200} and await sandbox.flood_violations() == []
    assert await bot_texts(sandbox, group) == [f"g{i}" for i in range(60)]
    times = [c["time"] - start for c in calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(t < 0.01 for t in times) == 3  # a small burst, not a block of 20
    assert _most_in_any_window(times, 60.0) == 20  # the whole allowance, never more
    assert _most_in_any_window(times, 3.0) <= 3  # at most the burst at any moment
    assert sum(2.99 < gap < 3.01 for gap in gaps) >= 50  # mostly a steady 3 s apart
    assert max(gaps) < 10.0  # no long silence: the burst is paid back in under 10 s a minute
    assert sum(t < 180.0 for t in times) == 60  # 3 minutes' allowance used in 3 minutes


async def test_forty_people_ready_thirty_go_in_the_first_second_and_no_second_has_more(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        clock: FakeClock) -> None:
    people = [started_user(server, f"P{i}") for i in range(40)]
    for person in people:
        await outbox.send(person, "hello")
        await outbox.send(person, "again")
    start = clock().timestamp()

    await outbox.drain(make_sender())

    calls = await sandbox.calls("sendMessage")
    assert len(calls) == 80 and {c["status"] for c in calls} == {200}
    assert await sandbox.flood_violations() == []
    times = sorted(c["time"] - start for c in calls)
    assert _most_in_any_window(times, 1.0) == 30  # never more than 30 in any rolling second
    # While more than 30 are ready, each second takes the whole allowance: the 40 first messages
    # and then, a second later, 20 second messages with the 10 first messages left over. The
    # last 10 second messages then wait for their person's own second.
    assert [sum(s <= t < s + 1.0 for t in times) for s in range(4)] == [30, 30, 10, 10]
    for person in people:
        assert await bot_texts(sandbox, person) == ["hello", "again"]
