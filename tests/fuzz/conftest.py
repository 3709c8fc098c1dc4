"""The fuzz suite's sandbox: the e2e fast-flood server, but retrying a refused webhook delivery only
every half second (as Telegram backs off), so an update the bot keeps refusing does not flood it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import FAST_FLOOD
from tests.fuzz.world import WEBHOOK_RETRY_DELAY


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(flood_limits=FAST_FLOOD, webhook_retry_delay=WEBHOOK_RETRY_DELAY) as server:
        yield server


@pytest.fixture
async def sandbox(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with server.client() as client:
        yield client
