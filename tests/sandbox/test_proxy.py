"""``sandbox.proxy.RoundRobinProxy``, the load balancer of the replica tests and bench: requests go
to the backends in turn with their path, body and headers, and a backend that is down is skipped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from sandbox.proxy import RoundRobinProxy
from tests.sandbox.tinybot import free_port


@contextlib.asynccontextmanager
async def backend(name: str) -> AsyncIterator[str]:
    """A tiny server that answers with its name, the path, the secret header and the body."""
    async def answer(request: web.Request) -> web.Response:
        body = await request.text()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return web.json_response({"name": name, "path": request.path_qs, "secret": secret, "body": body},
                                 status=201)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_requests_go_to_the_backends_in_turn_unchanged() -> None:
    async with backend("a") as a, backend("b") as b, RoundRobinProxy([a, b]) as proxy, \
            aiohttp.ClientSession() as http:
        answers = []
        for n in range(4):
            async with http.post(f"{proxy.url}/telegram?x={n}", data=f"update {n}",
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as response:
                assert response.status == 201
                answers.append(await response.json())
    assert [a["name"] for a in answers] == ["a", "b", "a", "b"]
    assert answers[3] == {"name": "b", "path": "/telegram?x=3", "secret": "s3cret", "body": "update 3"}
    assert proxy.served == {a: 2, b: 2}


async def test_a_backend_that_is_down_is_skipped_and_none_answering_is_502() -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with backend("up") as up, RoundRobinProxy([down, up]) as proxy, aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(f"{proxy.url}/telegram", data="{}") as response:
                assert (await response.json())["name"] == "up"
    async with RoundRobinProxy([down]) as proxy, aiohttp.ClientSession() as http, \
            http.post(f"{proxy.url}/telegram", data="{}") as response:
        assert response.status == 502
