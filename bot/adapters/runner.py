"""Running the bot: one lifecycle for the command line and the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from bot.adapters.app import ALLOWED_UPDATES, BotApplication
from bot.adapters.health import HealthServer
from bot.adapters.ingest import ParkedUpdates, Poller, WebhookReceiver
from bot.settings import WebhookSettings


@contextlib.asynccontextmanager
async def running(application: BotApplication, *, webhook: WebhookSettings | None = None) -> AsyncIterator[None]:
    """Initialise, start receiving (polling, or a secret-checked webhook; a webhook without a secret
    token raises ``ConfigError`` before anything starts), serve the health endpoint if ``[health]
    port`` is set (bot.adapters.health) and, on exit, stop cleanly."""
    receiver: Poller | WebhookReceiver = (
        Poller(application, allowed_updates=ALLOWED_UPDATES) if webhook is None
        else WebhookReceiver(application, webhook, allowed_updates=ALLOWED_UPDATES))
    parked = ParkedUpdates(application)
    assert application.bot_data.deps is not None, "build_application() sets the dependencies"
    health = HealthServer(application.bot_data.deps, mode="polling" if webhook is None else "webhook")
    async with contextlib.AsyncExitStack() as started:  # whatever started is stopped, in reverse order,
        await application.initialize()                  # also when a later step fails to start
        started.push_async_callback(_shut_down, application)
        if application.post_init:
            await application.post_init(application)
        await application.start()
        started.push_async_callback(_stop, application)
        for part in (receiver, parked, health):  # a port in use or a refused webhook fails here
            await part.start()
            started.push_async_callback(part.stop)
        yield


async def _stop(application: BotApplication) -> None:
    await application.stop()
    if application.post_stop:
        await application.post_stop(application)


async def _shut_down(application: BotApplication) -> None:
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)


async def serve(application: BotApplication, *, webhook: WebhookSettings | None = None) -> None:
    """Run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with running(application, webhook=webhook):
        await stop.wait()
