from collections.abc import AsyncIterator

import pytest

from sandbox import SandboxClient, SandboxServer

from .tinybot import build_tiny_bot, running


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(webhook_retry_delay=0.05) as server:
        yield server


@pytest.fixture
async def sandbox(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with server.client() as client:
        yield client


@pytest.fixture(params=["polling", "webhook"])
async def tiny_bot(request: pytest.FixtureRequest, server: SandboxServer) -> AsyncIterator[str]:
    """The tiny bot, running against the sandbox in polling and (secret-checked) webhook mode."""
    async with running(build_tiny_bot(server), request.param):
        yield request.param
