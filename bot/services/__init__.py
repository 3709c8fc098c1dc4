"""Services: the bot's behaviour, free of Telegram.

Each service function takes a :class:`~bot.services.context.Call` (unit of work, notifier,
configuration and the acting person), changes the database through repositories, queues what
people must be told through the notifier, and commits. Nothing here imports ``telegram``.
"""
