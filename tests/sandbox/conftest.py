from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sandbox import SandboxClient, SandboxServer
from tests.sandbox.tinybot import build_tiny_bot, running


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


def started_user(server: SandboxServer, name: str = "Alice") -> int:
    """A simulated person who has pressed Start (so the bot may write to them)."""
    person = server.people.create_user(name)
    server.people.start(person.id)
    return person.id


class FakeClock:
    """A clock tests move by hand, so flood windows and message ages need no sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """Raw Bot API calls over HTTP, to check status codes and descriptions exactly."""

    def __init__(self, server: SandboxServer, http: httpx.AsyncClient) -> None:
        self.server = server
        self.http = http

    async def __call__(self, method: str, *, token: str | None = None, **params: Any) -> tuple[int, dict[str, Any]]:
        url = f"{self.server.bot_api_url}{token or self.server.token}/{method}"
        response = await self.http.post(url, json=params)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def clocked_server(clock: FakeClock) -> AsyncIterator[SandboxServer]:
    """A sandbox whose time only moves when the test says so."""
    async with SandboxServer(clock=clock) as server:
        yield server


@pytest.fixture
async def api(server: SandboxServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient() as http:
        yield Api(server, http)


@pytest.fixture
async def clocked_api(clocked_server: SandboxServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient() as http:
        yield Api(clocked_server, http)
