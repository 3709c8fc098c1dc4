"""A small round-robin HTTP proxy: a load balancer in front of several webhook replicas.

Every request that reaches it goes to the next backend in turn, with its method, path, query,
body and headers (the secret token among them), and the backend's answer goes back unchanged. A
backend that cannot be reached is skipped for that request (the next one is tried), as a load
balancer's health check would do; when none answers, 502. Tests and ``bench/replicas.py`` put it
between the sandbox's webhook deliveries and two bots.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from types import TracebackType

import aiohttp
from aiohttp import web

__all__ = ["RoundRobinProxy"]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


class RoundRobinProxy:
    """``async with RoundRobinProxy(["http://127.0.0.1:8001", ...]) as proxy``: ``proxy.url`` is
    where to send requests; ``proxy.served`` counts the requests each backend answered."""

    def __init__(self, backends: Sequence[str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.host, self.port = host, port
        self.served: Counter[str] = Counter()
        self._turn = itertools.cycle(range(len(self.backends)))
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # port 0 asked for any free port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> RoundRobinProxy:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        first = next(self._turn)
        for step in range(len(self.backends)):
            backend = self.backends[(first + step) % len(self.backends)]
            try:
                async with self._http.request(request.method, backend + request.path_qs, data=body,
                                              headers=headers) as answer:
                    content = await answer.read()
                    self.served[backend] += 1
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=content, headers=kept)
            except aiohttp.ClientConnectionError:
                continue  # down: the next backend takes it
        return web.Response(status=502, text="no backend answered")
