"""Two senders on one database (two bot processes) against the sandbox, with the shared pacing
(``[outbox] pacing = "database"``): a 429 one of them met holds the other too, and together they
keep a person's and a group's pace. With ``pacing = "process"`` each would keep only its own."""

from __future__ import annotations

import asyncio
import itertools

from sandbox import SandboxClient, SandboxServer
from storage.pacing import PaceLimits
from tests.outbox.conftest import MakeSender, Outbox, group_with_bot, started_user
from tests.support.dbfixtures import FakeClock, UowFactory


async def test_a_429_met_by_one_sender_holds_the_other(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        uow_factory: UowFactory, clock: FakeClock) -> None:
    """A callback answer refused with 429 (``hold_all``) in one process: no process sends to
    anyone until the window has passed."""
    first, second = make_sender(), make_sender()
    person = started_user(server, "Rita")
    first.hold_all(5)
    until = clock().timestamp() + 5
    for _ in range(200):  # the window is written to the database by a task of the first sender
        async with uow_factory() as uow:
            if await uow.pacing.free_at(person, clock().timestamp(), PaceLimits()) >= until:
                break
        await asyncio.sleep(0.01)
    await outbox.send(person, "one")
    for _ in range(4):
        await second.run_once()
        clock.advance(1)
    assert await sandbox.calls("sendMessage") == []
    clock.advance(2)
    await second.run_once()
    assert [c["params"]["text"] for c in await sandbox.calls("sendMessage") if c["status"] == 200] == ["one"]


async def test_two_senders_together_keep_a_groups_and_a_persons_pace(
        server: SandboxServer, sandbox: SandboxClient, outbox: Outbox, make_sender: MakeSender,
        clock: FakeClock) -> None:
    senders = [make_sender(), make_sender()]
    person = started_user(server, "Rita")
    group = group_with_bot(server, "Repair team", person)
    for n in range(24):
        await outbox.send(group, f"card {n}")
    for n in range(4):
        await outbox.send(person, f"note {n}")
    for tick in range(140):  # both senders take turns every half second for 70 s
        await senders[tick % 2].run_once()
        clock.advance(0.5)
    sent = [c for c in await sandbox.calls("sendMessage") if c["status"] == 200]
    to_group = [c["time"] for c in sent if c["chat_id"] == group]
    to_person = [c["time"] for c in sent if c["chat_id"] == person]
    assert [c for c in await sandbox.calls() if c["status"] == 429] == []
    assert max(sum(1 for t in to_group if start <= t < start + 60) for start in to_group) == 20
    assert len(to_group) == 24 and len(to_person) == 4
    assert min(b - a for a, b in itertools.pairwise(to_person)) >= 1.0
