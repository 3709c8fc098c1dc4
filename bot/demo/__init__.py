"""``volunteer-loop demo``: the whole loop offline — the sandbox (our own Telegram), the real bot
against it, a small pre-built district and a web page where anyone chats as any of its people.

Imported only by the ``demo`` command: it brings the sandbox and aiohttp, which the bot itself never needs.
"""
