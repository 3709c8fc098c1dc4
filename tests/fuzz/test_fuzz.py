"""The short fuzz run of the normal suite: a few hundred generated inputs by careless and hostile
people against the real bot through the sandbox, in polling and in webhook mode, with every
invariant of :mod:`tests.fuzz.world` checked after every input. ``bench/fuzz.py`` is the long run.

Derandomized: the same inputs on every run, so a CI failure reproduces. A failure prints each
failing example (its inputs, in order) with the broken invariants and the input that broke them.
"""

from __future__ import annotations

import json

import pytest

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import bot_running, make_settings
from tests.fuzz.inputs import examples, tour
from tests.fuzz.invariants import ErrorRecords, Tally
from tests.fuzz.world import Fuzzer, fuzz, make_cast, set_the_stage
from tests.support.dbfixtures import BACKENDS

EXAMPLES = 80  # after the tour (about 80 inputs), about three inputs each: some 300 inputs


# Each mode once, each on its own backend when there are two (the inputs are the same in all four
# pairs, and every invariant reads the database through the same repositories).
@pytest.mark.parametrize(("mode", "backend"), [("polling", BACKENDS[0]), ("webhook", BACKENDS[-1])])
async def test_hostile_inputs_break_no_invariant(server: SandboxServer, sandbox: SandboxClient, database_url: str,
                                                 mode: str) -> None:
    cast = await make_cast(sandbox)
    settings = make_settings(server, database_url, admins=[cast.admin.id],
                             coordinators_chat_id=cast.coordinators_group.id, default_language="zh")
    tally = Tally()
    with ErrorRecords().installed() as errors:
        async with bot_running(settings, mode) as application:
            stage = await set_the_stage(cast, sandbox)
            fuzzer = Fuzzer(application, sandbox, stage, tally, errors)
            await fuzzer.prepare()
            await fuzz(fuzzer, examples(), max_examples=EXAMPLES, explicit=tour())
    summary = tally.summary()
    print(json.dumps(summary, ensure_ascii=False))
    assert not tally.violations, "\n\n".join([json.dumps(summary, ensure_ascii=False), *tally.reports])
    assert tally.inputs >= 250, summary
    # /mydata and /forget were played for real, so "foreign_data" (nobody reads or erases another
    # person's data) was checked against real files and a real erasure.
    assert tally.changes["mydata"] >= 2 and tally.changes["forgotten"] >= 1, summary
