"""Running the bot: one lifecycle for the command line and the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from .app import ALLOWED_UPDATES, BotApplication
from .settings import WebhookSettings


@contextlib.asynccontextmanager
async def running(application: BotApplication, *, webhook: WebhookSettings | None = None) -> AsyncIterator[None]:
    """Initialise, start (polling, or a secret-checked webhook) and, on exit, stop cleanly."""
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        updater = application.updater
        assert updater is not None
        if webhook is None:
            await updater.start_polling(poll_interval=0, timeout=10, allowed_updates=ALLOWED_UPDATES)
        else:
            secret = webhook.secret_token.get_secret_value() if webhook.secret_token else None
            await updater.start_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.path,
                                        webhook_url=webhook.url, secret_token=secret,
                                        allowed_updates=ALLOWED_UPDATES)
        await application.start()
        try:
            yield
        finally:
            if updater.running:
                await updater.stop()
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    finally:
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
