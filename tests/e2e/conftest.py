from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import FAST_FLOOD


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(flood_limits=FAST_FLOOD, webhook_retry_delay=0.05) as server:
        yield server


@pytest.fixture
async def sandbox(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with server.client() as client:
        yield client
