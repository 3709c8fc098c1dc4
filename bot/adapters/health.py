"""The probes' and Prometheus' HTTP endpoint (docs/health.md), beside the bot in polling and webhook
mode alike, on ``[health] listen``:``port``:

* ``GET /healthz`` — liveness: 200 while the process serves requests;
* ``GET /readyz`` — readiness: JSON with the database reachable (``SELECT 1`` within
  ``database_timeout_seconds``), the age of the last poll or webhook request, the outbox backlog and
  the schedule rows due; 200 when the database answers and Telegram reached the bot recently enough,
  else 503;
* ``GET /metrics`` — Prometheus' text format (:mod:`bot.adapters.metrics`).

Nothing served is personal: counts, ages and a mode.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.adapters.context import Deps
from bot.settings import ConfigError
from storage.health import Backlog, backlog, ping
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text exposition format


class HealthServer:
    """Serves the three endpoints for one running application (``mode``: polling or webhook)."""

    def __init__(self, deps: Deps, *, mode: str) -> None:
        self.deps = deps
        self.settings = deps.settings.health
        self.mode = mode
        self.port = 0  # the port bound, once started
        self._started = deps.clock()
        self._runner: web.AppRunner | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.port != 0

    async def start(self) -> None:
        """Listen, unless ``[health] port`` is 0; an address that cannot be used (a port in use) is a
        :class:`ConfigError`, one line for the operator."""
        if not self.enabled:
            return
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.listen, self.settings.port)
        try:
            await site.start()
        except OSError as error:
            await self.stop()
            raise ConfigError(f"the health endpoint cannot listen on {self.settings.listen}:{self.settings.port} "
                              f"({error.strerror or type(error).__name__}): change [health] listen or port") from None
        self._started = self.deps.clock()
        self.port = self._runner.addresses[0][1]
        log.info("health endpoint on http://%s:%s (/healthz, /readyz, /metrics)", self.settings.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Whether the bot is ready, and the figures that say so."""
        figures = await self._backlog()
        age = self._receipt_age()
        settings = self.settings
        stale_after = settings.poll_stale_seconds if self.mode == "polling" else settings.webhook_stale_seconds
        receiving = stale_after == 0 or age <= stale_after
        last = self.deps.metrics.last_receipt
        report: dict[str, Any] = {
            "ready": figures is not None and receiving,
            "database": figures is not None,
            "mode": self.mode,
            "last_receipt_age_seconds": None if last is None else round(age, 3),
            "receiving": receiving,
            "outbox_pending": None if figures is None else figures.outbox_pending,
            "outbox_oldest_pending_seconds": None if figures is None or figures.oldest_pending_seconds is None
            else round(figures.oldest_pending_seconds, 3),
            "schedule_due": None if figures is None else figures.schedule_due,
        }
        return report["ready"], report

    def _receipt_age(self) -> float:
        """Seconds since Telegram last reached the bot, or since the endpoint started if it has not yet."""
        since = self.deps.metrics.last_receipt or self._started
        return max(0.0, (self.deps.clock() - since).total_seconds())

    async def _backlog(self) -> Backlog | None:
        """The database's figures, or None when it does not answer in time."""
        try:
            async with asyncio.timeout(self.settings.database_timeout_seconds):
                async with UnitOfWork(self.deps.sessions, clock=self.deps.clock, read_only=True) as uow:
                    await ping(uow.session)
                    return await backlog(uow.session, self.deps.clock())
        except Exception as error:  # noqa: BLE001 - whatever the reason, the database did not answer
            log.warning("readiness: the database did not answer (%s)", type(error).__name__)
            return None

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _readyz(self, request: web.Request) -> web.Response:
        ready, report = await self.readiness()
        return web.json_response(report, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        figures = await self._backlog()
        self.deps.metrics.observe(figures, self._receipt_age())
        return web.Response(body=self.deps.metrics.exposition(), headers={"Content-Type": METRICS_TYPE})
