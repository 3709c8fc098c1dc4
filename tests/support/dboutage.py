"""A database that goes away for a few seconds and comes back, as an operator would see it.

PostgreSQL: the bot reaches the server through :class:`TcpProxy`; :meth:`Outage.cut` drops every
open connection and refuses new ones (the server "stopped"), :meth:`Outage.restore` listens again.

SQLite: the database's directory is renamed away and the engine's pooled connections are closed,
so every new connection fails with "unable to open database file" until the directory is back. (A
lock held by another connection would not do: the bot waits out its 30-second busy timeout.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn


class TcpProxy:
    """Forwards connections on 127.0.0.1 to ``target``; can be cut and restored on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop every open one."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update({client_writer, upstream_writer})
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))
        self._writers.difference_update({client_writer, upstream_writer})

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()


class Outage:
    """The database at ``url`` (give it to the bot) and the means to take it away for a while."""

    def __init__(self, url: str, *, proxy: TcpProxy | None = None, directory: Path | None = None) -> None:
        self.url = url
        self.proxy = proxy
        self.directory = directory

    async def cut(self, engine: AsyncEngine) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        assert self.directory is not None
        os.rename(self.directory, self._away)
        # Pooled connections keep their open files: close them, once none is in use (one in use
        # would be left to the garbage collector, unclosed). The engine gets its fresh pool first,
        # with no await in between, so nothing takes a connection from the old one meanwhile.
        while engine.pool.checkedout():  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)
        old = engine.sync_engine.pool
        engine.sync_engine.pool = old.recreate()
        await greenlet_spawn(old.dispose)

    async def restore(self) -> None:
        if self.proxy is not None:
            await self.proxy.start()
            return
        os.rename(self._away, self.directory)  # type: ignore[arg-type]

    @property
    def _away(self) -> Path:
        assert self.directory is not None
        return self.directory.with_name(self.directory.name + "-away")


@contextlib.asynccontextmanager
async def database_outage(database_url: str, tmp_path: Path) -> AsyncIterator[Outage]:
    """An :class:`Outage` for the test's database (``database_url`` from the ``database_url`` fixture:
    PostgreSQL is reached through a proxy; SQLite gets a file of its own in a directory that can go)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        directory = tmp_path / "outage-db"
        directory.mkdir()
        yield Outage(f"sqlite+aiosqlite:///{directory}/bot.sqlite3", directory=directory)
        return
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield Outage(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy=proxy)
    finally:
        await proxy.cut()
