"""Services: the bot's behaviour, free of Telegram.

Each service function takes a :class:`~bot.services.context.ServiceContext` (unit of work, the
views ``tell``, configuration and the acting person), changes the database through repositories,
queues what people must be told through ``ctx.tell`` (bot.views.tell), and commits. Nothing here imports ``telegram``.
"""
