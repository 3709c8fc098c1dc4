"""``python -m sandbox --port N --token T``: run the fake Bot API server standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from sandbox.flood import FloodLimits
from sandbox.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port; 0 picks a free one (default 8081)")
    parser.add_argument("--token", default="123456789:SANDBOX-token", help="the bot token to accept")
    parser.add_argument("--bot-username", default="sandbox_bot")
    parser.add_argument("--no-flood-limits", action="store_true", help="do not enforce Telegram's flood limits")
    parser.add_argument("--no-privacy-mode", action="store_true", help="let the bot see every group message")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = SandboxServer(token=args.token, host=args.host, port=args.port, bot_username=args.bot_username,
                           flood_limits=FloodLimits(enabled=not args.no_flood_limits),
                           privacy_mode=not args.no_privacy_mode)
    base_url = await server.start()
    print(base_url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
